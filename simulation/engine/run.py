"""One replication: a pure function of (scenario, seed) returning raw run records.

This module only wires the engine together: named random streams, the household registry,
each crossing's stages (engines chosen by :mod:`simulation.engine.stages.choice`), journeys,
the sources of households and the crackdown; then it runs SimPy to the end of the calendar
and collects what was recorded into a :class:`~simulation.engine.records.RawRun`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import simpy

from simulation.engine.crackdown import Crackdown
from simulation.engine.crossing import Crossing
from simulation.engine.households import Households
from simulation.engine.journeys import Journeys, exit_recorder, exits_recorder
from simulation.engine.population import GroupDraw, draw_group
from simulation.engine.presets import ServicePresets
from simulation.engine.records import APPROACH, IN_PAKISTAN, VOLUNTARY, FlowLog, RawRun
from simulation.engine.sources import (
    DemandLine,
    direct_demand,
    start_backlogs,
    voluntary_departures,
)
from simulation.engine.stages.choice import build_stages
from simulation.engine.stages.loop import new_loop
from simulation.engine.streams import Streams
from simulation.scenario.schema import Scenario

DRAW_STREAMS = ("households", "departures")  # a group's two streams, in draw_group's order


def run_model(scenario: Scenario, seed: int, lookahead: bool = True) -> RawRun:
    """Run one replication to the end of the calendar and return its raw records.

    ``lookahead=False`` serves every stage with SimPy events, one per visit (the reference);
    the sample path is the same (tests compare the two), only slower. The run leaves no
    reference cycles behind (see :func:`_quiet_gc`).
    """
    with _quiet_gc():
        return _replicate(scenario, seed, lookahead)


def _replicate(scenario: Scenario, seed: int, lookahead: bool) -> RawRun:
    """:func:`run_model`'s work (its processes and events die with this frame)."""
    env, streams, flows = simpy.Environment(), Streams(seed), FlowLog()
    loop = new_loop(env) if lookahead else None
    households = Households(scenario.group_names)
    draws = {
        g: draw_group(
            scenario,
            g,
            streams.rng("population", g, "households"),
            streams.rng("population", g, "departures"),
            streams,
        )
        for g in scenario.populations
    }
    population = _register(households, scenario, draws)
    presets = ServicePresets(scenario, streams, draws, {g: r.start for g, r in population.items()})
    crossings = {
        name: Crossing(
            env,
            build_stages(env, scenario, name, households, presets, streams, loop),
            exit_recorder(households, flows, ci),
            exits_recorder(households, flows, ci, scenario.horizon_hours),
        )
        for ci, name in enumerate(scenario.crossings)
    }
    journeys = Journeys(env, scenario, streams, households, flows, crossings, loop)
    initial = {g: {IN_PAKISTAN: p.persons} for g, p in scenario.populations.items()}
    start_backlogs(scenario, streams, households, population, initial, crossings)
    for g, draw in draws.items():
        env.process(
            voluntary_departures(env, draw, population[g].start, households, flows, journeys)
        )
    lines = [
        DemandLine(env, scenario, i, streams, crossings[line.crossing], journeys)
        for i, line in enumerate(scenario.demand)
    ]
    if lines:
        env.process(direct_demand(env, lines, scenario.days, households, presets))
    if scenario.crackdown is not None:
        regions = {g: draw.region for g, draw in draws.items()}
        Crackdown(env, scenario, streams, households, flows, journeys, population, regions).start()
    if loop is None:
        env.run(until=scenario.horizon_hours)
    else:
        loop.run(until=scenario.horizon_hours)
    for crossing in crossings.values():
        crossing.close_books(scenario.horizon_hours)  # serves the FIFO tails
    return _collect(scenario, seed, env, households, crossings, flows, initial, journeys)


def _register(
    households: Households, scenario: Scenario, draws: dict[str, GroupDraw]
) -> dict[str, range]:
    """Add each group's households to the registry (at home); return each group's ids."""
    population = {}
    for g, draw in draws.items():
        gi = scenario.group_names.index(g)
        first = households.add(
            draw.sizes, gi, VOLUNTARY, draw.crossing, draw.vulnerable, at_home=True
        )
        population[g] = range(first, first + len(draw.sizes))
    return population


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """Collect garbage rarely during a run: the run allocates millions of short-lived events
    and generators that reference counting frees, while full collections would rescan the
    large, long-lived objects of the process (modules, pandas, earlier results) again and
    again (16% of run time at full scale). Those are frozen for the run, so no collection
    scans them. The run's SimPy processes and events are reference cycles (50 MB at full
    scale) that die with :func:`_replicate`'s frame: collected at the end, still frozen, the
    collection scans only what the run made (under 1 ms instead of a full collection's
    25-50 ms). Every run thus frees its own cycles; without that, 20 replications in one
    process peaked at 1.5 GB."""
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.collect()  # the run's cycles: only the unfrozen (the run's own) objects are scanned
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _collect(
    scenario: Scenario,
    seed: int,
    env: simpy.Environment,
    households: Households,
    crossings: dict[str, Crossing],
    flows: FlowLog,
    initial: dict[str, dict[int, int]],
    journeys: Journeys,
) -> RawRun:
    logs = {}
    for cname, crossing in scenario.crossings.items():
        for sname, stage in zip(crossing.stages, crossings[cname].stages, strict=True):
            logs[cname, sname] = stage.log.to_arrays()
        road = getattr(crossings[cname].stages[0], "road_log", None)
        if road is not None:  # after the crossing's stages: frames take the first as first
            logs[cname, APPROACH] = road.to_arrays()
    columns = households.columns()
    return RawRun(
        scenario=scenario,
        seed=seed,
        sizes=columns["size"],
        group=columns["group"],
        mode=columns["mode"],
        stage_logs=logs,
        flows=flows.flows(),
        exits=flows.exits(),
        initial=initial,
        closures=journeys.closures,
        events=next(env._eid),
        vulnerable=columns["vulnerable"],
    )


__all__ = ["run_model"]
