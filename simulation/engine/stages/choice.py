"""The one place that chooses a stage's engine, and the invariants that make the choice exact.

Two engines serve a stage, with the same rules (servers that change at dated breakpoints, the
``TIME_EPS`` rule near a change, service times drawn up front or from the stage's stream):

- :class:`~simulation.engine.stages.fifo.FifoStage` fixes each household's start the moment it
  arrives (the Kiefer-Wolfowitz recursion). That is exact only when the start depends on
  nothing that happens later: the stage serves in arrival order (no ``priority``), has no
  waiting limit (nothing can be turned back or held), and the next stage has no waiting limit
  either (a household never waits at its server for room downstream).
- :class:`~simulation.engine.stages.events.Stage` serves every other stage event by event.

``lookahead=False`` serves every stage event by event: the reference path. The tests require
both paths to record the same visits, flows and exits.
"""

from __future__ import annotations

import simpy

from simulation.engine.households import Households
from simulation.engine.presets import ServicePresets
from simulation.engine.sampling import ServiceClock
from simulation.engine.stages.events import Stage
from simulation.engine.stages.fifo import FifoStage
from simulation.engine.streams import Streams
from simulation.scenario.calendar import capacity_breakpoints
from simulation.scenario.schema import Scenario
from simulation.scenario.schema import Stage as StageSpec


def first_come_no_blocking(stages: list[StageSpec], k: int) -> bool:
    """Does stage ``k`` serve in arrival order with no waiting limit, and can its households
    always move on (the next stage has no waiting limit)? Then a FifoStage serves it."""
    spec = stages[k]
    last = k + 1 == len(stages)
    return (
        not spec.priority
        and spec.waiting_capacity_households is None
        and (last or stages[k + 1].waiting_capacity_households is None)
    )


def stage_engines(
    scenario: Scenario, crossing: str, lookahead: bool = True
) -> list[type[Stage] | type[FifoStage]]:
    """The engine class serving each stage of ``crossing``, in order."""
    specs = list(scenario.crossings[crossing].stages.values())
    return [
        FifoStage if lookahead and first_come_no_blocking(specs, k) else Stage
        for k in range(len(specs))
    ]


def build_stages(
    env: simpy.Environment,
    scenario: Scenario,
    crossing: str,
    households: Households,
    presets: ServicePresets,
    streams: Streams,
    lookahead: bool = True,
) -> list[Stage | FifoStage]:
    """The stages of ``crossing`` in order, each served by the engine chosen for it."""
    specs = scenario.crossings[crossing].stages.items()
    engines = stage_engines(scenario, crossing, lookahead)
    built: list[Stage | FifoStage] = []
    for k, ((name, spec), engine) in enumerate(zip(specs, engines, strict=True)):
        service = spec.service_minutes
        clock = ServiceClock(
            service.per_household, service.per_person, streams.rng("service", crossing, name)
        )
        capacity = capacity_breakpoints(scenario, crossing, name)
        preset = presets.hours[crossing][k]
        if engine is FifoStage:
            built.append(FifoStage(clock, capacity, households.size, preset))
            continue
        rank = households.ranks(tuple(spec.priority)) if spec.priority else None
        waiting = spec.waiting_capacity_households
        built.append(Stage(env, clock, capacity, households.size, rank, waiting, preset))
    return built
