"""Loading a scenario file: size limit, safe YAML, overrides, validation, one-line errors.

Every error is one line ``FILE:LINE: key.path: what is wrong (got VALUE)``; a value given with
``--set`` is pointed at as ``FILE: --set KEY=VALUE`` instead of a line. Reading the YAML safely
(limits on nesting, aliases and size) is :mod:`simulation.scenario.reading`; ``--set`` is
:mod:`simulation.scenario.overrides`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from simulation.scenario.compose import Composed, compose
from simulation.scenario.errors import (
    ScenarioError,
    Source,
    describe_error,
    describe_problem,
    show_value,
)
from simulation.scenario.overrides import apply_overrides
from simulation.scenario.reading import read_yaml
from simulation.scenario.rules import check_scenario
from simulation.scenario.schema import Scenario

MAX_FILE_BYTES = 1_000_000  # the shipped scenarios are under 15 kB
Spec = TypeVar("Spec", bound=BaseModel)


def _too_large() -> str:
    return f"file too large; a scenario file is at most {MAX_FILE_BYTES} bytes"


def _raw_scenario(text: str, filename: str) -> Composed:
    """The raw mapping of a scenario text (its ``extends`` chain merged in) and the file and
    line of every key path in it."""
    if len(text) > MAX_FILE_BYTES:
        limit = f"a scenario is at most {MAX_FILE_BYTES} characters"
        raise ScenarioError([f"{filename}: text too large; {limit}"])
    return compose(text, filename, read_text)


def parse_scenario(
    text: str, filename: str = "<scenario>", overrides: Sequence[str] = ()
) -> Scenario:
    """Validate scenario YAML text (plus ``KEY=VALUE`` overrides) into a :class:`Scenario`.

    ``extends: other.yaml`` in the text is read relative to ``filename``'s folder.
    """
    raw = _raw_scenario(text, filename)
    data = raw.data
    overridden = apply_overrides(data, overrides, filename)
    source = Source(filename, raw.lines, overridden, raw.files)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        described = sorted(describe_error(e, data, source) for e in exc.errors())
        raise ScenarioError([line for _, _, line in described]) from None
    problems = check_scenario(scenario)
    if problems:
        raise ScenarioError([describe_problem(p, source) for p in problems])
    return scenario


def read_text(path: Path) -> str:
    """The file's text: at most :data:`MAX_FILE_BYTES` bytes of UTF-8."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read the file ({exc.strerror})"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError([f"{path}: {_too_large()}"])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"{path}: not a UTF-8 text file ({exc.reason})"]) from None


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` with a one-line message."""
    path = Path(path)
    return parse_scenario(read_text(path), str(path), overrides)


def scenario_hash(path: str | Path) -> str:
    """SHA-256 of a scenario file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def scenario_to_yaml(scenario: Scenario) -> str:
    """The resolved scenario (defaults filled in) as YAML text."""
    data = scenario.model_dump(mode="json", by_alias=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def read_spec(text: str, filename: str, model: type[Spec]) -> tuple[Spec, Source]:
    """A YAML file of another kind (experiment, calibration) validated by ``model``: the
    validated object and the line of every key; :class:`ScenarioError` with
    one line per problem (file, line, key, what is wrong), as for a scenario."""
    data, found = read_yaml(text, filename)
    if not isinstance(data, dict):
        raise ScenarioError([f"{filename}:1: (top level): expected a mapping (got "
                             f"{show_value(data)})"])  # fmt: skip
    source = Source(filename, found.lines, {})
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        described = sorted(describe_error(e, data, source, model) for e in exc.errors())
        raise ScenarioError([line for _, _, line in described]) from None
    return spec, source
