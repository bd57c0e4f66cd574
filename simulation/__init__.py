"""repatsim: a SimPy discrete-event model of refugee repatriation through border crossings.

Typical use::

    from simulation import load_scenario, run_replications
    scenario = load_scenario("scenarios/torkham_2025_acc.yaml")
    results = run_replications(scenario, replications=10)
    results.summary
"""

from simulation.experiments.replications import (
    compare,
    replication_seeds,
    run_replications,
    simulate,
)
from simulation.outputs.summary import outcomes, summarise
from simulation.results import Results, read_results, write_results
from simulation.scenario import ScenarioError, load_scenario, parse_scenario
from simulation.scenario.schema import Scenario

__all__ = [
    "Results",
    "Scenario",
    "ScenarioError",
    "compare",
    "load_scenario",
    "outcomes",
    "parse_scenario",
    "read_results",
    "replication_seeds",
    "run_replications",
    "simulate",
    "summarise",
    "write_results",
]
