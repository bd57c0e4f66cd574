"""The scenario layer: the schema, its rules, reading files and ``--set``, one-line errors.

A scenario is loaded and validated once (:func:`load_scenario`) into one immutable
:class:`Scenario`; everything downstream trusts it.
"""

from simulation.scenario.errors import ScenarioError
from simulation.scenario.load import load_scenario, parse_scenario, scenario_hash, scenario_to_yaml
from simulation.scenario.schema import Scenario

__all__ = [
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "scenario_hash",
    "scenario_to_yaml",
]
