"""The one place that chooses a stage's engine, and the invariants that make the choice exact.

Three engines serve a stage, all with the same rules (servers that change at dated breakpoints,
the ``TIME_EPS`` rule near a change, service times drawn up front or from the stage's stream in
the order services start):

- :class:`~simulation.engine.stages.events.Stage` serves a stage event by event with SimPy
  events: the reference. ``lookahead=False`` serves every stage with it.
- :class:`~simulation.engine.stages.loop.LoopStage` serves it event by event too, with the same
  events in the same order: they are plain tuples in an
  :class:`~simulation.engine.stages.loop.EventLoop` heap, keyed like SimPy's queue (time,
  priority, event id), each id drawn from SimPy's own counter at the moment the reference
  schedules its event, and merged with SimPy's queue by that key. Exact by construction, ties
  included. It serves every stage ahead of the FIFO tail.
- :class:`~simulation.engine.stages.fifo.FifoStage` fixes each household's start when the run
  ends (the Kiefer-Wolfowitz recursion). That is exact for the *FIFO tail*: the stages after
  the last one needing events, when each serves in arrival order (no ``priority``) with no
  waiting limit and feeds no stage with one. Such a stage reacts to nothing but its
  arrivals and nothing reacts to it: a household's start depends only on the households that
  arrived before it, and the arrivals keep the order in which the reference processes them.

The tests require every path to record the same visits, flows and exits as the reference.
"""

from __future__ import annotations

import simpy

from simulation.engine.households import Households
from simulation.engine.presets import ServicePresets
from simulation.engine.sampling import ServiceClock
from simulation.engine.stages.events import Stage
from simulation.engine.stages.fifo import FifoStage
from simulation.engine.stages.loop import EventLoop, LoopStage, new_stage
from simulation.engine.streams import Streams
from simulation.scenario.calendar import capacity_breakpoints
from simulation.scenario.schema import Scenario
from simulation.scenario.schema import Stage as StageSpec

Engine = type[Stage] | type[LoopStage] | type[FifoStage]


def first_come_no_blocking(stages: list[StageSpec], k: int) -> bool:
    """Does stage ``k`` serve in arrival order with no waiting limit, and can its households
    always move on (the next stage has no waiting limit)?"""
    spec = stages[k]
    last = k + 1 == len(stages)
    return (
        not spec.priority
        and spec.waiting_capacity_households is None
        and (last or stages[k + 1].waiting_capacity_households is None)
    )


def fifo_tail(stages: list[StageSpec]) -> int:
    """Where the FIFO tail starts: the first stage from which every stage is
    :func:`first_come_no_blocking` (``len(stages)`` when the last one is not)."""
    tail = len(stages)
    while tail > 0 and first_come_no_blocking(stages, tail - 1):
        tail -= 1
    return tail


def stage_engines(scenario: Scenario, crossing: str, lookahead: bool = True) -> list[Engine]:
    """The engine class serving each stage of ``crossing``, in order."""
    specs = list(scenario.crossings[crossing].stages.values())
    if not lookahead:
        return [Stage] * len(specs)
    tail = fifo_tail(specs)
    return [LoopStage if k < tail else FifoStage for k in range(len(specs))]


def build_stages(
    env: simpy.Environment,
    scenario: Scenario,
    crossing: str,
    households: Households,
    presets: ServicePresets,
    streams: Streams,
    loop: EventLoop | None = None,
) -> list[Stage | LoopStage | FifoStage]:
    """The stages of ``crossing`` in order, each served by the engine chosen for it: the
    reference engines without ``loop``, the fast ones with it."""
    specs = scenario.crossings[crossing].stages.items()
    engines = stage_engines(scenario, crossing, lookahead=loop is not None)
    built: list[Stage | LoopStage | FifoStage] = []
    for k, ((name, spec), engine) in enumerate(zip(specs, engines, strict=True)):
        service = spec.service_minutes
        clock = ServiceClock(
            service.per_household, service.per_person, streams.rng("service", crossing, name)
        )
        capacity = capacity_breakpoints(scenario, crossing, name)
        preset = presets.column(crossing, k)
        if engine is FifoStage:
            compiled = loop is not None and type(loop) is not EventLoop  # the loop's engine
            built.append(FifoStage(clock, capacity, households.size, preset, compiled))
            continue
        rank = households.ranks(tuple(spec.priority)) if spec.priority else None
        waiting = spec.waiting_capacity_households
        args = (clock, capacity, households.size, rank, waiting, preset)
        event_stage = Stage(env, *args) if loop is None else new_stage(env, loop, *args)
        if k == 0 and waiting is not None:  # a bounded first stage: overflow on the road
            event_stage.open_road()
        built.append(event_stage)
    return built
