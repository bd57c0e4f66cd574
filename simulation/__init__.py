"""repatsim: a SimPy discrete-event model of refugee repatriation through border crossings.

Typical use::

    from simulation import compare, load_scenario, run_replications, size
    scenario = load_scenario("scenarios/torkham_2025_acc.yaml")
    results = run_replications(scenario, replications=10)
    results.summary
    compare("scenarios/torkham_2025_acc.yaml", {"plus30": ["timeline+={...}"]}).differences
    size(scenario, "torkham", "reception", "p95_wait_hours<=2").evidence
    sweep("scenarios/torkham_2025_acc.yaml", {"crossings.torkham.stages.reception.servers": [4, 6]})
"""

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
