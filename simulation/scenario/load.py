"""Loading a scenario file: YAML with line numbers, overrides, validation, one-line errors.

Every error is one line ``FILE:LINE: key.path: what is wrong (got VALUE)``; a value given with
``--set`` is pointed at as ``FILE: --set KEY=VALUE`` instead of a line.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simulation.scenario.errors import (
    Path_,
    ScenarioError,
    Source,
    allowed_keys,
    describe_error,
    describe_problem,
    has_index,
    show_value,
)
from simulation.scenario.rules import check_scenario
from simulation.scenario.schema import Scenario


# ---------------------------------------------------------------- reading YAML
class _Loader(yaml.SafeLoader):
    """SafeLoader keeping an impossible date (``2025-02-31``) as text, for the schema to report."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date or datetime, or the scalar's text when it is not a real calendar date."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


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


def _duplicate_keys(node: yaml.Node, path: Path_ = ()) -> Iterator[tuple[Path_, int, int]]:
    """Each key given twice in one mapping: its path, its line and the line of its first use."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name, line = str(key.value), key.start_mark.line + 1
            if name in first and name != "<<":
                yield (*path, name), line, first[name]
            first.setdefault(name, line)
            yield from _duplicate_keys(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*path, i))


def _yaml_problem(exc: yaml.YAMLError, filename: str) -> str:
    """One line for a YAML syntax error: where the parser stopped and what it expected."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else 1
    column = f" (column {mark.column + 1})" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line + 1 != line:
        problem += f" ({context}, line {context_mark.line + 1})"
    if "'\\t'" in problem:
        problem += "; indent with spaces, not tabs"
    return f"{filename}:{line}: not valid YAML{column}: {problem}"


def _parse_yaml(text: str, filename: str) -> tuple[Any, dict[Path_, int]]:
    """The raw mapping of a scenario file and the line of every key path in it."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise ScenarioError([_yaml_problem(exc, filename)]) from None
    finally:
        loader.dispose()
    if node is None or not isinstance(data, dict):
        raise ScenarioError(
            [f"{filename}:1: (top level): expected a mapping of sections (got {show_value(data)})"]
        )
    duplicate = next(_duplicate_keys(node), None)
    if duplicate is not None:
        path, line, first = duplicate
        key = ".".join(map(str, path))
        raise ScenarioError(
            [f"{filename}:{line}: {key}: duplicate key (first given on line {first}); give it once"]
        )
    return data, _line_map(node)


# ---------------------------------------------------------------- --set overrides
def apply_override(data: dict[str, Any], assignment: str) -> Path_:
    """Set ``a.b.c=value`` in the raw scenario (value parsed as YAML); return the key path."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key:
        raise ScenarioError([f"--set {assignment}: expected KEY.PATH=VALUE, e.g. run.seed=7"])
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in key.split(".")]
    node = _node_at(data, parts, assignment)
    last = parts[-1]
    if not (isinstance(node, dict) or has_index(node, last)):
        problem = _no_such(node, parts[-1:], raw, parts[:-1])
        raise ScenarioError([f"--set {assignment}: {key}: {problem}"])
    node[last] = _parse_value(raw)
    return tuple(parts)


def _node_at(data: Any, parts: Sequence[str | int], assignment: str) -> Any:
    """The raw value holding the last of ``parts``; the ones before must exist in the file."""
    node = data
    for i, part in enumerate(parts[:-1]):
        if (isinstance(node, dict) and part in node) or has_index(node, part):
            node = node[part]
            continue
        where = ".".join(map(str, parts[: i + 1]))
        problem = _no_such(node, parts[i:], assignment.partition("=")[2], parts[:i])
        raise ScenarioError([f"--set {assignment}: {where}: {problem}"])
    return node


def _no_such(
    node: Any, parts: Sequence[str | int], raw: str, above: Sequence[str | int] = ()
) -> str:
    """Why ``parts[0]`` cannot be followed inside ``node`` (found at ``above``); what could be."""
    part = parts[0]
    if isinstance(node, dict) and str(part) in allowed_keys(tuple(above)):
        where = ".".join(map(str, (*above, part)))
        return (
            f"not in the file, so --set cannot reach inside it; "
            f"set it whole instead, e.g. --set '{where}={_nested(parts[1:], raw)}'"
        )
    if isinstance(node, dict):
        keys = [str(k) for k in node]
        close = difflib.get_close_matches(str(part), keys, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"the file has: {', '.join(keys)}"
        return f"no such key in the file; {hint}"
    if isinstance(node, list):
        span = f"0..{len(node) - 1}" if node else "none, the list is empty"
        return f"no such item; expected an index {span}"
    return f"cannot go inside the value {show_value(node)}"


def _nested(parts: Sequence[str | int], raw: str) -> str:
    """``{a: {b: raw}}`` for ``parts`` ``a.b``: a flow mapping to give a whole section."""
    return f"{{{parts[0]}: {_nested(parts[1:], raw)}}}" if parts else raw


def _parse_value(raw: str) -> Any:
    """A ``--set`` value read as YAML, or the raw text when it is not valid YAML."""
    try:
        return yaml.load(raw, Loader=_Loader)  # a SafeLoader subclass: safe
    except yaml.YAMLError:
        return raw


# ---------------------------------------------------------------- entry points
def _apply_overrides(
    data: dict[str, Any], overrides: Sequence[str], filename: str
) -> dict[Path_, str]:
    """Apply every ``--set``; an error names the file it was applied to."""
    paths: dict[Path_, str] = {}
    for assignment in overrides:
        try:
            paths[apply_override(data, assignment)] = assignment
        except ScenarioError as exc:
            raise ScenarioError([f"{filename}: {exc.lines[0]}"]) from None
    return paths


def parse_scenario(
    text: str, filename: str = "<scenario>", overrides: Sequence[str] = ()
) -> Scenario:
    """Validate scenario YAML text (plus ``KEY=VALUE`` overrides) into a :class:`Scenario`."""
    data, lines = _parse_yaml(text, filename)
    source = Source(filename, lines, _apply_overrides(data, overrides, filename))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        described = sorted(describe_error(e, data, source) for e in exc.errors())
        raise ScenarioError([line for _, _, line in described]) from None
    problems = check_scenario(scenario)
    if problems:
        raise ScenarioError([describe_problem(p, source) for p in problems])
    return scenario


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` with a one-line message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read the file ({exc.strerror})"]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"{path}: not a UTF-8 text file ({exc.reason})"]) from None
    return parse_scenario(text, str(path), overrides)


def scenario_hash(path: str | Path) -> str:
    """SHA-256 of a scenario file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def scenario_to_yaml(scenario: Scenario) -> str:
    """The resolved scenario (defaults filled in) as YAML text."""
    data = scenario.model_dump(mode="json", by_alias=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
