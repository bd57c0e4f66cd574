"""Calibration: how well a scenario reproduces observed figures (data/observed/returns.csv).

Sits above outputs and experiments (it reads the result frames); nothing below imports it.

    from simulation import load_scenario, run_replications
    from simulation.calibration import read_observed, score
    scenario = load_scenario("scenarios/ifrp_2023_undocumented.yaml")
    fit = score(scenario, run_replications(scenario, 5), read_observed(default_observed()))
    fit.mean_ard, fit.worst, fit.table
"""

from simulation.calibration.error import ard, interval
from simulation.calibration.observed import (
    DEFAULT_SERIES,
    ObservedError,
    default_observed,
    one_series,
    read_observed,
)
from simulation.calibration.score import Score, score

__all__ = [
    "DEFAULT_SERIES",
    "ObservedError",
    "Score",
    "ard",
    "default_observed",
    "interval",
    "one_series",
    "read_observed",
    "score",
]
