"""Loading a scenario file: YAML with line numbers, overrides, validation, one-line errors."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from simulation.checks import Problem, check_scenario
from simulation.schema import Scenario

Path_ = tuple[str | int, ...]


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``str()`` is one line: file, line, key, what is wrong."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        extra = f" (+{len(lines) - 1} more)" if len(lines) > 1 else ""
        super().__init__(self.lines[0] + extra)


@dataclass(frozen=True)
class _Source:
    """Where the raw scenario came from, to point errors at lines."""

    filename: str
    lines: dict[Path_, int]
    overrides: dict[Path_, str]

    def line_of(self, path: Path_) -> str:
        if path in self.overrides:
            return f"--set {self.overrides[path]}"
        probe = path
        while probe not in self.lines and probe:
            probe = probe[:-1]
        return f"{self.filename}:{self.lines.get(probe, 1)}"


def _line_map(node: yaml.Node, path: Path_ = ()) -> dict[Path_, int]:
    """Map every key path in a composed YAML tree to its 1-based line."""
    lines: dict[Path_, int] = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines.update(_line_map(value, child))
            lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_line_map(item, (*path, i)))
    return lines


def _parse_yaml(text: str, filename: str) -> tuple[Any, dict[Path_, int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError([f"{filename}:{line}: not valid YAML: {problem}"]) from None
    if not isinstance(data, dict):
        raise ScenarioError([f"{filename}:1: the file must hold a mapping of sections"])
    return data, _line_map(node) if node is not None else {}


def apply_override(data: dict[str, Any], assignment: str) -> Path_:
    """Set ``a.b.c=value`` in the raw scenario (value parsed as YAML); return the key path."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key:
        raise ScenarioError([f"--set {assignment}: expected KEY.PATH=VALUE"])
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in key.split(".")]
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            where = ".".join(map(str, parts[: i + 1]))
            raise ScenarioError(
                [f"--set {assignment}: {where}: no such key in the scenario"]
            ) from None
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    last = parts[-1]
    if isinstance(node, dict) or _has_index(node, last):
        node[last] = value
    else:
        raise ScenarioError([f"--set {assignment}: {key}: cannot set a value here"])
    return tuple(parts)


def _has_index(node: Any, part: str | int) -> bool:
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _walk_to_yaml_path(data: Any, loc: Iterable[str | int]) -> Path_:
    """Drop pydantic's own loc parts (union tags) that are not keys in the raw data."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or _has_index(node, part):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and part not in node:
            # an unknown or missing key: keep it, it names the problem
            if part in {"function-after", "tagged-union"}:
                continue
            if _is_union_tag(node, part):
                continue
            path.append(part)
            node = None
    return tuple(path)


def _is_union_tag(node: dict[str, Any], part: str) -> bool:
    return part in (node.get("dist"), node.get("event"))


def _fields_of(model: type[BaseModel], data: Any, loc: Path_) -> list[str]:
    """Names allowed where ``loc`` points, for 'did you mean'."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            field = next(
                (f for f in getattr(current, "model_fields", {}).values() if f.alias == part), None
            )
        current = _model_in(field.annotation) if field is not None else None
    if current is None or not hasattr(current, "model_fields"):
        return []
    return [f.alias or name for name, f in current.model_fields.items()]


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside an annotation like ``dict[str, Model]`` or ``Model | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _describe(error: Any, data: Any, source: _Source) -> str:
    path = _walk_to_yaml_path(data, error["loc"])
    key = ".".join(map(str, path)) or "(top level)"
    where = source.line_of(path)
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(path[-1]) if path else ""
        allowed = _fields_of(Scenario, data, tuple(p for p in error["loc"]))
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(allowed)}"
        return f"{where}: {key}: unknown key '{name}'{hint}"
    if kind == "missing":
        return f"{where}: {key}: required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {key}: {message} (got {error.get('input')!r})"


def _problem_line(problem: Problem, source: _Source) -> str:
    key = ".".join(map(str, problem.path))
    return f"{source.line_of(problem.path)}: {key}: {problem.message} (got {problem.value!r})"


def parse_scenario(
    text: str, filename: str = "<scenario>", overrides: Sequence[str] = ()
) -> Scenario:
    """Validate scenario YAML text (plus ``KEY=VALUE`` overrides) into a :class:`Scenario`."""
    data, lines = _parse_yaml(text, filename)
    set_paths = {apply_override(data, a): a for a in overrides}
    source = _Source(filename, lines, set_paths)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([_describe(e, data, source) for e in exc.errors()]) from None
    problems = check_scenario(scenario)
    if problems:
        raise ScenarioError([_problem_line(p, source) for p in problems])
    return scenario


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` with a one-line message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read the file ({exc.strerror})"]) from None
    return parse_scenario(text, str(path), overrides)


def scenario_hash(path: str | Path) -> str:
    """SHA-256 of a scenario file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def scenario_to_yaml(scenario: Scenario) -> str:
    """The resolved scenario (defaults filled in) as YAML text."""
    data = scenario.model_dump(mode="json", by_alias=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
