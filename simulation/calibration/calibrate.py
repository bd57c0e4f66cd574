"""Fitting a scenario's parameters to observed figures: a derivative-free search
(:func:`scipy.optimize.minimize`, Nelder-Mead or Powell) over the parameters mapped to the unit
cube, minimising the (weighted) mean ARD that :func:`~simulation.calibration.score.score` gives.

Every evaluation runs the same replication seeds (common random numbers), so the loss is a
deterministic function of the parameters and a calibration is reproducible for a given seed.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from tqdm import tqdm

from simulation.calibration.fitfile import Calibration, Parameter
from simulation.calibration.score import Score, score
from simulation.experiments.replications import run_replications
from simulation.experiments.runners import Runner
from simulation.scenario.schema import Scenario

MISSING_ARD = 1.0  # a fitted figure the model cannot give at some values (nobody returned)
SIGNIFICANT = 4  # parameter values are tried rounded to 4 significant digits
FIRST_STEP = 0.25  # Nelder-Mead's first simplex: a quarter of each range from the start


def unit_to_value(p: Parameter, u: float) -> float:
    """The parameter value at ``u`` of the unit cube: ``u`` reflected into [0, 1], mapped
    linearly or logarithmically onto low..high, rounded (whole, or 4 significant digits)."""
    r = u % 2.0
    r = 2.0 - r if r > 1.0 else r
    if p.log:
        x = math.exp(math.log(p.low) + r * (math.log(p.high) - math.log(p.low)))
    else:
        x = p.low + r * (p.high - p.low)
    if p.integer:
        return float(min(max(round(x), math.ceil(p.low)), math.floor(p.high)))
    return min(max(float(f"{x:.{SIGNIFICANT}g}"), p.low), p.high)


def value_to_unit(p: Parameter, x: float) -> float:
    """Where the value ``x`` lies in the unit cube (the inverse of :func:`unit_to_value`)."""
    if p.log:
        return (math.log(x) - math.log(p.low)) / (math.log(p.high) - math.log(p.low))
    return (x - p.low) / (p.high - p.low)


@dataclass
class Evaluation:
    """One evaluation: the parameter values tried, the loss, and the score behind it."""

    number: int
    values: dict[str, float]
    loss: float
    fit: Score


@dataclass
class Fit:
    """A finished calibration: the start and best evaluations and every evaluation."""

    calibration: Calibration
    start: Evaluation
    best: Evaluation
    evaluations: list[Evaluation]
    figures: list[str]  # row_ids of the fitted figures
    message: str

    @property
    def scenario(self) -> Scenario:
        """The fitted scenario."""
        return self.calibration.arm(self.best.values)

    def table(self) -> pd.DataFrame:
        """Every evaluation: number, parameter values, loss."""
        return pd.DataFrame(
            [{"evaluation": e.number, **e.values, "loss": e.loss} for e in self.evaluations]
        )

    def parameters(self) -> pd.DataFrame:
        """One row per parameter: name, start, fitted, low, high, scale, integer."""
        return pd.DataFrame([
            {"name": p.path, "start": p.start, "fitted": self.best.values[p.path], "low": p.low,
             "high": p.high, "scale": "log" if p.log else "linear", "integer": p.integer}
            for p in self.calibration.parameters
        ])  # fmt: skip


class _Spent(Exception):
    """The evaluation budget is used up."""


class Objective:
    """The loss as a function of a point of the unit cube; keeps every evaluation (each
    distinct point, run once), and stops the search (raising :class:`_Spent`) when a new point
    would exceed the budget."""

    def __init__(self, calibration: Calibration, runner: Runner | None, budget: int,
                 bar: tqdm) -> None:  # fmt: skip
        self.calibration, self.runner, self.budget, self.bar = calibration, runner, budget, bar
        self.evaluations: list[Evaluation] = []
        self.figures: list[str] = []
        self.seen: dict[tuple[float, ...], Evaluation] = {}

    def __call__(self, u: np.ndarray) -> float:
        values = {p.path: unit_to_value(p, float(x))
                  for p, x in zip(self.calibration.parameters, u, strict=True)}  # fmt: skip
        return self.evaluate(values).loss

    def evaluate(self, values: dict[str, float]) -> Evaluation:
        """The evaluation of ``values``: a point tried before is not run again (the loss is
        deterministic); a new one is scored and recorded, if the budget allows."""
        key = tuple(values.values())
        if key in self.seen:
            return self.seen[key]
        if len(self.evaluations) >= self.budget:
            raise _Spent
        fit = self._score(values)
        if not self.figures:
            self.figures = fitted_figures(self.calibration, fit)
        loss = loss_of(self.calibration, fit, self.figures)
        found = self.seen[key] = Evaluation(len(self.evaluations) + 1, values, loss, fit)
        self.evaluations.append(found)
        best = min(e.loss for e in self.evaluations)
        self.bar.update()
        self.bar.set_postfix_str(f"loss {found.loss:.4f}, best {best:.4f}")
        return found

    def _score(self, values: dict[str, float]) -> Score:
        spec = self.calibration.spec
        scenario = self.calibration.arm(values)
        results = run_replications(scenario, spec.replications, spec.seed, runner=self.runner)
        return score(scenario, results, self.calibration.observed, spec.observed.series,
                     spec.observed.until, spec.observed.strict)  # fmt: skip


class CalibrationError(ValueError):
    """Nothing to fit: no observed figure is comparable in the window; ``str()`` is one line."""


def fitted_figures(calibration: Calibration, fit: Score) -> list[str]:
    """The compared figures the loss counts (those ending in the window, with weight > 0),
    chosen once at the start values so every evaluation weighs the same figures."""
    compared = fit.compared
    start = calibration.spec.observed.start
    if start is not None:
        compared = compared[compared["date_end"] >= start]
    chosen = [str(r.row_id) for r in compared.itertuples()
              if calibration.weight(str(r.metric)) > 0]  # fmt: skip
    if not chosen:
        series = calibration.spec.observed.series
        raise CalibrationError(
            f"{calibration.path}: no observed figure of series {series} with weight > 0 can be "
            "compared in the window; nothing to fit"
        )
    return chosen


def loss_of(calibration: Calibration, fit: Score, figures: list[str]) -> float:
    """The weighted mean ARD over ``figures`` (a figure not comparable now counts
    :data:`MISSING_ARD`)."""
    rows = {str(r["row_id"]): r for r in fit.table.to_dict("records")}
    total = weights = 0.0
    for row_id in figures:
        row = rows[row_id]
        weight = calibration.weight(str(row["metric"]))
        value = float(row["ard"]) if bool(row["comparable"]) else MISSING_ARD
        total += weight * (MISSING_ARD if math.isnan(value) else value)
        weights += weight
    return total / weights


def calibrate(
    calibration: Calibration,
    runner: Runner | None = None,
    progress: bool = False,
    max_evaluations: int | None = None,
) -> Fit:
    """Minimise the loss from the scenario's own values; the start counts as evaluation 1."""
    budget = max_evaluations or calibration.spec.optimizer.max_evaluations
    bar = tqdm(total=budget, desc="calibrate", unit="eval", file=sys.stderr, disable=not progress)
    objective = Objective(calibration, runner, budget, bar)
    start = objective.evaluate(calibration.start_values)
    u0 = np.array([value_to_unit(p, p.start) for p in calibration.parameters])
    try:
        result = minimize(objective, u0, method=calibration.spec.optimizer.method,
                          options=_options(calibration, u0, budget))  # fmt: skip
        message = str(result.message)
    except _Spent:
        message = f"stopped after {budget} evaluations (the budget)"
    finally:
        bar.close()
    best = min(objective.evaluations, key=lambda e: e.loss)  # the first of equal losses
    return Fit(calibration, start, best, objective.evaluations, objective.figures, message)


def _options(calibration: Calibration, u0: np.ndarray, budget: int) -> dict[str, object]:
    """Tolerances on the unit cube; Nelder-Mead's first simplex a quarter-range from the start
    (towards the middle), not scipy's 5% of the value (nothing at a bound of 0). scipy counts
    calls, repeats too: ten per new point bound a search circling points already tried."""
    calls = 10 * budget
    if calibration.spec.optimizer.method == "Powell":
        return {"maxfev": calls, "xtol": 1e-3, "ftol": 1e-4}
    steps = np.where(u0 + FIRST_STEP <= 1.0, FIRST_STEP, -FIRST_STEP)
    simplex = np.vstack([u0, u0 + np.diag(steps)])
    return {"maxfev": calls, "xatol": 1e-3, "fatol": 1e-4, "initial_simplex": simplex}
