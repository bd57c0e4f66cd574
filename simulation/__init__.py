"""repatsim: a SimPy discrete-event model of refugee repatriation through border crossings.

Typical use::

    from simulation import compare, load_scenario, run_replications, size
    scenario = load_scenario("scenarios/torkham_2025_acc.yaml")
    results = run_replications(scenario, replications=10)
    results.summary
    compare("scenarios/torkham_2025_acc.yaml", {"plus30": ["timeline+={...}"]}).differences
    size(scenario, "torkham", "reception", "p95_wait_hours<=2").evidence
    sweep("scenarios/torkham_2025_acc.yaml", {"crossings.torkham.stages.reception.servers": [4, 6]})

The public names are imported when first used (``import simulation`` alone loads nothing
heavy), so ``repatsim validate`` and ``repatsim --help`` start in a fraction of a second.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, for type checkers and editors
    from simulation.experiments.compare import Comparison, compare
    from simulation.experiments.design import Range
    from simulation.experiments.replications import (
        replication_seeds,
        run_replications,
        side_by_side,
        simulate,
    )
    from simulation.experiments.runners import DaskRunner, LocalRunner
    from simulation.experiments.sizing import Sizing, size
    from simulation.experiments.sweep import sweep
    from simulation.folders import ResultsFolderError, check_destination
    from simulation.outputs.outcomes import OUTCOMES, Direction
    from simulation.outputs.summary import outcomes, summarise
    from simulation.results import Results, read_results, write_results
    from simulation.scenario import ScenarioError, load_scenario, parse_scenario
    from simulation.scenario.schema import Scenario

_HOME = {
    "OUTCOMES": "simulation.outputs.outcomes",
    "Comparison": "simulation.experiments.compare",
    "DaskRunner": "simulation.experiments.runners",
    "Direction": "simulation.outputs.outcomes",
    "LocalRunner": "simulation.experiments.runners",
    "Range": "simulation.experiments.design",
    "Results": "simulation.results",
    "ResultsFolderError": "simulation.folders",
    "Scenario": "simulation.scenario.schema",
    "ScenarioError": "simulation.scenario",
    "Sizing": "simulation.experiments.sizing",
    "check_destination": "simulation.folders",
    "compare": "simulation.experiments.compare",
    "load_scenario": "simulation.scenario",
    "outcomes": "simulation.outputs.summary",
    "parse_scenario": "simulation.scenario",
    "read_results": "simulation.results",
    "replication_seeds": "simulation.experiments.replications",
    "run_replications": "simulation.experiments.replications",
    "side_by_side": "simulation.experiments.replications",
    "simulate": "simulation.experiments.replications",
    "size": "simulation.experiments.sizing",
    "summarise": "simulation.outputs.summary",
    "sweep": "simulation.experiments.sweep",
    "write_results": "simulation.results",
}

__all__ = [
    "OUTCOMES",
    "Comparison",
    "DaskRunner",
    "Direction",
    "LocalRunner",
    "Range",
    "Results",
    "ResultsFolderError",
    "Scenario",
    "ScenarioError",
    "Sizing",
    "check_destination",
    "compare",
    "load_scenario",
    "outcomes",
    "parse_scenario",
    "read_results",
    "replication_seeds",
    "run_replications",
    "side_by_side",
    "simulate",
    "size",
    "summarise",
    "sweep",
    "write_results",
]
assert sorted(__all__) == sorted(_HOME)


def __getattr__(name: str) -> Any:
    """Import a public name from its module when it is first asked for."""
    if name not in _HOME:
        raise AttributeError(f"module 'simulation' has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
