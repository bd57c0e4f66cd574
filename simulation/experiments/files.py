"""Experiment files: YAML naming a scenario, its replications and seed, and either variants to
compare or levers and uncertainties to sweep; validated as strictly as a scenario.

Every error is one line ``FILE:LINE: key.path: what is wrong``, and so is a variant whose
overrides make the scenario invalid (the line of the variant, then the scenario's message).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, field_validator, model_validator

from simulation.experiments.design import Range
from simulation.outputs.outcomes import BY_NAME
from simulation.scenario import Scenario, ScenarioError, parse_scenario
from simulation.scenario.errors import Source
from simulation.scenario.load import read_spec
from simulation.scenario.schema import (
    MAX_REPLICATIONS,
    MAX_SEED,
    NAME_PATTERN,
    Frozen,
    checked_name,
)

MAX_FILE_BYTES = 200_000
MAX_SAMPLES = 100_000


class Param(Frozen):
    """A lever or uncertainty: listed ``values`` (crossed in a full-factorial grid), or a
    ``low``..``high`` range sampled by Latin hypercube (``integer``: rounded)."""

    values: Annotated[list[Any], Field(min_length=1, max_length=10_000)] | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False

    @model_validator(mode="after")
    def _one_form(self) -> Param:
        ranged = self.low is not None or self.high is not None
        if (self.values is None) == (not ranged):
            raise ValueError("give either values: [...] or low and high")
        if ranged and (self.low is None or self.high is None or not self.low < self.high):
            raise ValueError(f"expected low < high (got low {self.low}, high {self.high})")
        return self

    @property
    def is_range(self) -> bool:
        """Sampled from a range (else listed values)."""
        return self.values is None


Overrides = list[str] | dict[str, Any]


class ExperimentFile(Frozen):
    """The schema of an experiment file."""

    name: str
    description: str = ""
    scenario: str
    set: list[str] = Field(default_factory=list)
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 10
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 1
    outcomes: list[str] = Field(default_factory=list)
    variants: dict[str, Overrides] = Field(default_factory=dict)
    levers: dict[str, Param] = Field(default_factory=dict)
    uncertainties: dict[str, Param] = Field(default_factory=dict)
    samples: Annotated[int, Field(ge=0, le=MAX_SAMPLES)] = 0

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str) -> str:
        return checked_name(name, "a name usable as a folder name")

    @field_validator("levers", "uncertainties", mode="before")
    @classmethod
    def _listed(cls, params: Any) -> Any:
        """``key: [1, 2]`` is short for ``key: {values: [1, 2]}``."""
        if isinstance(params, dict):
            return {k: {"values": v} if isinstance(v, list) else v for k, v in params.items()}
        return params

    @field_validator("outcomes")
    @classmethod
    def _registered(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in BY_NAME]
        if unknown:
            raise ValueError(f"unknown outcome {unknown[0]!r}; expected any of: "
                             + ", ".join(BY_NAME))  # fmt: skip
        return names

    @field_validator("variants")
    @classmethod
    def _variant_names(cls, variants: dict[str, Overrides]) -> dict[str, Overrides]:
        for name in variants:
            if name == "baseline" or re.fullmatch(NAME_PATTERN, name) is None:
                raise ValueError(f"variant name {name!r}: expected a folder-safe name other "
                                 "than 'baseline' (the baseline is always run)")  # fmt: skip
        return variants

    @model_validator(mode="after")
    def _one_kind(self) -> ExperimentFile:
        swept = bool(self.levers or self.uncertainties)
        if self.variants and swept:
            raise ValueError("give variants (to compare) or levers/uncertainties (to sweep), "
                             "not both")  # fmt: skip
        ranges = [k for k, v in {**self.levers, **self.uncertainties}.items() if v.is_range]
        if ranges and self.samples == 0:
            raise ValueError(f"{ranges[0]} is a range: give samples (Latin hypercube points)")
        return self


class Experiment:
    """A validated experiment: its file, the scenario it runs, and its arms as overrides."""

    def __init__(self, spec: ExperimentFile, path: Path, text: str, scenario_path: Path) -> None:
        self.spec = spec
        self.path = path
        self.scenario_path = scenario_path
        self.scenario_text = text
        self.variants = {name: as_overrides(o) for name, o in spec.variants.items()}

    @property
    def values(self) -> dict[str, list[Any]]:
        """Listed values of levers and uncertainties (the grid)."""
        both = {**self.spec.levers, **self.spec.uncertainties}
        return {k: v.values for k, v in both.items() if v.values is not None}

    @property
    def ranges(self) -> dict[str, Range]:
        """Ranges of levers and uncertainties (the Latin hypercube)."""
        both = {**self.spec.levers, **self.spec.uncertainties}
        return {
            k: Range(v.low, v.high, v.integer)
            for k, v in both.items()
            if v.low is not None and v.high is not None
        }

    def sweep_arguments(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Levers and uncertainties as :func:`simulation.experiments.sweep.sweep` takes them:
        listed values, or a :class:`Range`."""

        def spec(param: Param) -> Any:
            if param.values is not None:
                return list(param.values)
            assert param.low is not None and param.high is not None
            return Range(param.low, param.high, param.integer)

        return (
            {k: spec(v) for k, v in self.spec.levers.items()},
            {k: spec(v) for k, v in self.spec.uncertainties.items()},
        )

    def arm(self, overrides: list[str]) -> Scenario:
        """The scenario with the file's ``set`` and then ``overrides`` applied."""
        return parse_scenario(
            self.scenario_text, str(self.scenario_path), [*self.spec.set, *overrides]
        )


def as_overrides(given: Overrides) -> list[str]:
    """A variant's overrides as ``--set`` texts (a mapping ``{key: value}`` is flow YAML)."""
    if isinstance(given, list):
        return list(given)
    out = []
    for key, value in given.items():
        text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
        text = text.removesuffix("...").strip()
        out.append(f"{key.removesuffix('+')}{'+' if key.endswith('+') else ''}={text}")
    return out


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError([f"{path}: file too large; an experiment file is at most "
                                 f"{MAX_FILE_BYTES} bytes"])  # fmt: skip
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read the file ({exc.strerror})"]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"{path}: not a UTF-8 text file ({exc.reason})"]) from None


def load_experiment(path: str | Path, schema: type[ExperimentFile] = ExperimentFile) -> Experiment:
    """Read and validate an experiment file, its scenario and every arm; raise
    :class:`ScenarioError` with one line on the first thing wrong. ``schema`` may be a subclass
    adding a section of one command's own (e.g. ``forecast:``)."""
    path = Path(path)
    filename = str(path)
    spec, source = read_spec(_read(path), filename, schema)
    scenario_path = (path.parent / spec.scenario).resolve()
    if not scenario_path.is_file():
        where = source.line_of(("scenario",))
        raise ScenarioError(
            [f"{where}: scenario: no such file {scenario_path} (relative to the experiment file)"]
        )
    experiment = Experiment(spec, path, _read(scenario_path), scenario_path)
    _check_arms(experiment, source)
    return experiment


def _check_arms(experiment: Experiment, source: Source) -> None:
    """Every arm must give a valid scenario: the error names the experiment's line too."""
    arms: list[tuple[tuple[str | int, ...], list[str]]] = [(("set",), [])]
    arms += [(("variants", name), o) for name, o in experiment.variants.items()]
    for key in [*experiment.spec.levers, *experiment.spec.uncertainties]:
        kind = "levers" if key in experiment.spec.levers else "uncertainties"
        for value in _extremes(experiment, key):
            arms.append(((kind, key), as_overrides({key: value})))
    for where, overrides in arms:
        try:
            experiment.arm(overrides)
        except ScenarioError as exc:
            raise ScenarioError(
                [f"{source.line_of(where)}: {'.'.join(map(str, where))}: {exc.lines[0]}"]
            ) from None


def _extremes(experiment: Experiment, key: str) -> list[Any]:
    """The values of a lever or uncertainty worth checking up front (all listed; both ends)."""
    if key in experiment.values:
        return experiment.values[key]
    spec = experiment.ranges[key]
    ends = [spec.low, spec.high]
    return [round(v) for v in ends] if spec.integer else ends
