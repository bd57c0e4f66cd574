"""Calibration files: YAML naming a scenario, the observed figures to fit (file, series, window),
the parameters to fit (dotted scenario key paths with bounds), the replications and seed of every
evaluation, the loss and the optimiser; validated as strictly as a scenario.

Every error is one line ``FILE:LINE: key.path: what is wrong``, also when a parameter's path is
not in the scenario, its value lies outside its bounds, or a bound makes the scenario invalid.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import Field, field_validator, model_validator

from simulation.calibration.match import KINDS
from simulation.calibration.observed import (
    DEFAULT_SERIES,
    ObservedError,
    default_observed,
    one_series,
    read_observed,
)
from simulation.experiments.files import as_overrides
from simulation.scenario import Scenario, ScenarioError, parse_scenario
from simulation.scenario.errors import Source, show_value
from simulation.scenario.load import read_spec, read_text
from simulation.scenario.schema import MAX_REPLICATIONS, MAX_SEED, Frozen

MAX_PARAMETERS = 20
MAX_EVALUATIONS = 10_000
METHODS = ("Nelder-Mead", "Powell")


class Bounds(Frozen):
    """A parameter's range; ``scale: log`` searches the logarithm (for rates); ``integer``
    rounds to whole numbers (servers, capacities)."""

    low: float
    high: float
    scale: Literal["linear", "log"] = "linear"
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if not self.low < self.high:
            raise ValueError(f"expected low < high (got low {self.low}, high {self.high})")
        if self.scale == "log" and not self.low > 0:
            raise ValueError(f"scale: log needs low > 0 (got low {self.low})")
        if self.integer and math.ceil(self.low) > math.floor(self.high):
            raise ValueError(f"integer: no whole number between {self.low} and {self.high}")
        return self


class ObservedSpec(Frozen):
    """Which observed figures to fit: one counting ``series`` of ``file`` (default: the
    package's ``data/observed/returns.csv``), figures ending from ``from`` until ``until``."""

    file: str | None = None
    series: str = DEFAULT_SERIES
    start: dt.date | None = Field(default=None, alias="from")
    until: dt.date | None = None
    strict: bool = False

    @model_validator(mode="after")
    def _window(self) -> ObservedSpec:
        if self.start is not None and self.until is not None and self.until < self.start:
            raise ValueError(f"until {self.until} is before from {self.start}")
        return self


Weight = Annotated[float, Field(ge=0, le=1e6)]


class WeightedLoss(Frozen):
    """A weighted mean ARD: each figure weighs its metric's weight (a metric not listed: 1)."""

    weights: Annotated[dict[str, Weight], Field(min_length=1)]

    @field_validator("weights")
    @classmethod
    def _metrics(cls, weights: dict[str, float]) -> dict[str, float]:
        for name in weights:
            if name not in KINDS:
                raise ValueError(f"unknown metric {name!r}; expected any of: {', '.join(KINDS)}")
        return weights


class Optimizer(Frozen):
    """A derivative-free :func:`scipy.optimize.minimize` method and its evaluation budget."""

    method: Literal["Nelder-Mead", "Powell"] = "Nelder-Mead"
    max_evaluations: Annotated[int, Field(ge=1, le=MAX_EVALUATIONS)] = 60


class CalibrationFile(Frozen):
    """The schema of a calibration file."""

    description: str = ""
    scenario: str
    set: list[str] = Field(default_factory=list)
    observed: ObservedSpec = ObservedSpec()
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 5
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 1
    loss: Literal["mean_ard"] | WeightedLoss = "mean_ard"
    parameters: Annotated[dict[str, Bounds], Field(min_length=1, max_length=MAX_PARAMETERS)]
    optimizer: Optimizer = Optimizer()


@dataclass(frozen=True)
class Parameter:
    """A fitted parameter: its dotted path, bounds and the scenario's own (starting) value."""

    path: str
    low: float
    high: float
    log: bool
    integer: bool
    start: float


@dataclass
class Calibration:
    """A validated calibration: the file, the scenario text, the observed rows, the parameters."""

    spec: CalibrationFile
    path: Path
    scenario_path: Path
    scenario_text: str
    observed_path: Path
    observed: pd.DataFrame
    parameters: list[Parameter]

    def arm(self, values: dict[str, float]) -> Scenario:
        """The scenario with the file's ``set`` and then ``values`` (path -> value) applied."""
        return parse_scenario(self.scenario_text, str(self.scenario_path),
                              [*self.spec.set, *overrides(values)])  # fmt: skip

    def weight(self, metric: str) -> float:
        """The loss weight of a figure of ``metric`` (1 for the plain mean ARD)."""
        if isinstance(self.spec.loss, WeightedLoss):
            return self.spec.loss.weights.get(metric, 1.0)
        return 1.0

    @property
    def start_values(self) -> dict[str, float]:
        return {p.path: p.start for p in self.parameters}


def overrides(values: dict[str, float]) -> list[str]:
    """``--set`` texts for parameter values (exact: floats are written so they read back)."""
    return as_overrides({path: _plain(v) for path, v in values.items()})


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)


def load_calibration(path: str | Path) -> Calibration:
    """Read and validate a calibration file, its scenario, observed data and parameters; raise
    :class:`ScenarioError` with one line on the first thing wrong."""
    path = Path(path)
    filename = str(path)
    spec, source = read_spec(read_text(path), filename, CalibrationFile)
    scenario_path = _beside(path, spec.scenario, source, ("scenario",), "scenario")
    observed_path = default_observed()
    if spec.observed.file is not None:
        observed_path = _beside(path, spec.observed.file, source, ("observed", "file"), "file")
    text = read_text(scenario_path)
    try:
        base = parse_scenario(text, str(scenario_path), spec.set)
    except ScenarioError as exc:
        where = source.line_of(("scenario",))
        raise ScenarioError([f"{where}: scenario: {exc.lines[0]}"]) from None
    parameters = [_parameter(base, key, b, source) for key, b in spec.parameters.items()]
    calibration = Calibration(spec, path, scenario_path, text, observed_path,
                              _observed(observed_path, spec, source), parameters)  # fmt: skip
    _check_ends(calibration, source)
    return calibration


def _beside(path: Path, name: str, source: Source, key: tuple[str, ...], what: str) -> Path:
    """A file named relative to the calibration file, which must exist."""
    target = (path.parent / name).resolve()
    if not target.is_file():
        raise ScenarioError([f"{source.line_of(key)}: {'.'.join(key)}: no such {what} file "
                             f"{target} (relative to the calibration file)"])  # fmt: skip
    return target


def _observed(path: Path, spec: CalibrationFile, source: Source) -> pd.DataFrame:
    """The observed rows, with the chosen series present (else one line naming the file)."""
    try:
        observed = read_observed(path)
        one_series(observed, spec.observed.series, path)
    except ObservedError as exc:
        raise ScenarioError([f"{source.line_of(('observed',))}: observed: {exc}"]) from None
    return observed


def _parameter(base: Scenario, key: str, bounds: Bounds, source: Source) -> Parameter:
    """The parameter at ``key`` with the scenario's value, which must be a number in bounds."""
    where = f"{source.line_of(('parameters', key))}: parameters.{key}"
    try:
        value = value_at(base.model_dump(mode="json", by_alias=True), key)
    except LookupError as exc:
        raise ScenarioError([f"{where}: {exc.args[0]}"]) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError([f"{where}: the scenario's value is not a number, so it cannot be "
                             f"fitted (got {show_value(value)})"])  # fmt: skip
    if not bounds.low <= value <= bounds.high:
        raise ScenarioError([f"{where}: the scenario's value {value} lies outside the bounds "
                             f"{bounds.low}..{bounds.high}; the fit starts from it"])  # fmt: skip
    return Parameter(key, bounds.low, bounds.high, bounds.scale == "log", bounds.integer,
                     float(value))  # fmt: skip


def value_at(data: Any, key: str) -> Any:
    """The value at dotted ``key`` (list items by index) of a scenario dump; LookupError saying
    where the path leaves the scenario."""
    node = data
    for i, part in enumerate(key.split(".")):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            above = ".".join(key.split(".")[:i]) or "the top level"
            raise LookupError(f"no such key path in the scenario: {above} has no {part!r}")
    return node


def _check_ends(calibration: Calibration, source: Source) -> None:
    """Each parameter at either bound must give a valid scenario (one line naming it)."""
    for p in calibration.parameters:
        ends = (math.ceil(p.low), math.floor(p.high)) if p.integer else (p.low, p.high)
        for end in ends:
            try:
                calibration.arm({p.path: end})
            except ScenarioError as exc:
                where = source.line_of(("parameters", p.path))
                raise ScenarioError([f"{where}: parameters.{p.path}: at {end}: "
                                     f"{exc.lines[0]}"]) from None  # fmt: skip
