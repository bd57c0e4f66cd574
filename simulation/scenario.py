"""Loading a scenario file: YAML with line numbers, overrides, validation, one-line errors.

Every error is one line ``FILE:LINE: key.path: what is wrong (got VALUE)``; a value given with
``--set`` is pointed at as ``FILE: --set KEY=VALUE`` instead of a line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import types
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from simulation.checks import Problem, check_scenario
from simulation.schema import Distribution, Scenario, TimelineEvent

Path_ = tuple[str | int, ...]


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``str()`` is one line: file, line, key, what is wrong."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        extra = f" (+{len(lines) - 1} more)" if len(lines) > 1 else ""
        super().__init__(self.lines[0] + extra)


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


@dataclass(frozen=True)
class _Source:
    """Where the raw scenario came from, to point errors at lines."""

    filename: str
    lines: dict[Path_, int]
    overrides: dict[Path_, str]

    def override_of(self, path: Path_) -> str | None:
        """The ``--set`` assignment that gave the value at ``path`` (or above it), if any."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.overrides:
                return self.overrides[path[:end]]
        return None

    def line_number(self, path: Path_) -> int:
        """1-based line of the deepest key of ``path`` in the file; 0 for a ``--set`` value."""
        if self.override_of(path) is not None:
            return 0
        probe = path
        while probe not in self.lines and probe:
            probe = probe[:-1]
        return self.lines.get(probe, 1)

    def line_of(self, path: Path_) -> str:
        """``FILE:LINE`` or ``FILE: --set KEY=VALUE`` for the value at ``path``."""
        assignment = self.override_of(path)
        if assignment is not None:
            return f"{self.filename}: --set {assignment}"
        return f"{self.filename}:{self.line_number(path)}"


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
            [f"{filename}:1: (top level): expected a mapping of sections (got {_show(data)})"]
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
    if not (isinstance(node, dict) or _has_index(node, last)):
        problem = _no_such(node, parts[-1:], raw, parts[:-1])
        raise ScenarioError([f"--set {assignment}: {key}: {problem}"])
    node[last] = _parse_value(raw)
    return tuple(parts)


def _node_at(data: Any, parts: Sequence[str | int], assignment: str) -> Any:
    """The raw value holding the last of ``parts``; the ones before must exist in the file."""
    node = data
    for i, part in enumerate(parts[:-1]):
        if (isinstance(node, dict) and part in node) or _has_index(node, part):
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
    if isinstance(node, dict) and str(part) in _allowed_keys(tuple(above)):
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
    return f"cannot go inside the value {_show(node)}"


def _nested(parts: Sequence[str | int], raw: str) -> str:
    """``{a: {b: raw}}`` for ``parts`` ``a.b``: a flow mapping to give a whole section."""
    return f"{{{parts[0]}: {_nested(parts[1:], raw)}}}" if parts else raw


def _parse_value(raw: str) -> Any:
    """A ``--set`` value read as YAML, or the raw text when it is not valid YAML."""
    try:
        return yaml.load(raw, Loader=_Loader)  # a SafeLoader subclass: safe
    except yaml.YAMLError:
        return raw


def _has_index(node: Any, part: str | int) -> bool:
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


# ---------------------------------------------------------------- the schema, for messages
def _strip(annotation: Any) -> Any:
    """``X`` from ``Annotated[X, ...]`` and from ``X | None``."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
            continue
        members = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) in (Union, types.UnionType) and len(members) == 1:
            annotation = members[0]
            continue
        return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _tag_values(annotation: Any) -> list[str]:
    """The values of a model's ``Literal`` fields: its tag in a discriminated union."""
    if not _is_model(annotation):
        return []
    fields = annotation.model_fields.values()
    literals = [f.annotation for f in fields if get_origin(f.annotation) is Literal]
    return [str(value) for literal in literals for value in get_args(literal)]


def _tags(union: Any) -> list[str]:
    """The tags of a discriminated union, in schema order."""
    return [tag for member in get_args(_strip(union)) for tag in _tag_values(member)]


TAGS = {"dist": _tags(Distribution), "event": _tags(TimelineEvent)}
TAG_KIND = {"dist": "distribution", "event": "timeline event"}


def _step(annotation: Any, part: str | int) -> Any:
    """The annotation one pydantic ``loc`` part below ``annotation`` (None when lost)."""
    ann = _strip(annotation)
    origin = get_origin(ann)
    if origin is dict:
        return get_args(ann)[1]
    if origin is list:
        return get_args(ann)[0]
    if origin in (Union, types.UnionType):
        return next((m for m in get_args(ann) if str(part) in _tag_values(m)), None)
    if _is_model(ann):
        for name, field in ann.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
    return None


def _annotation_at(loc: Iterable[str | int]) -> Any:
    """The schema annotation at a pydantic error location (None when it cannot be followed)."""
    annotation: Any = Scenario
    for part in loc:
        annotation = _step(annotation, part) if annotation is not None else None
    return annotation


def _allowed_keys(loc: Iterable[str | int]) -> list[str]:
    """The keys the schema allows in the mapping at ``loc``."""
    model = _strip(_annotation_at(loc))
    if not _is_model(model):
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


_KINDS: dict[Any, str] = {
    dt.date: "a date YYYY-MM-DD",
    int: "a whole number",
    float: "a number",
    str: "text",
    bool: "true or false",
}


def _expected(annotation: Any) -> str:
    """What a value of this annotation looks like, in words."""
    ann = _strip(annotation)
    origin = get_origin(ann)
    if ann in _KINDS:
        return _KINDS[ann]
    if origin is Literal:
        return "one of: " + ", ".join(map(str, get_args(ann)))
    if origin is list:
        return "a list"
    if origin in (Union, types.UnionType):
        tags = _tags(ann)
        disc = next((d for d, known in TAGS.items() if set(known) == set(tags)), "kind")
        return f"a mapping with {disc}: one of {', '.join(tags)}"
    return "a mapping"


# ---------------------------------------------------------------- pydantic errors
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


def _show(value: Any, limit: int = 100) -> str:
    """A value as one short line: YAML-like mappings and lists, dates as text."""
    text = _flat(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flat(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(_flat, value)) + "]"
    if isinstance(value, dt.date):
        return repr(value.isoformat())
    return repr(value)


_BOUNDS = {
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
    "less_than_equal": ("le", "<="),
    "less_than": ("lt", "<"),
}


def _message(error: Any) -> str:
    """What is wrong with a value, phrased as what is expected."""
    kind, ctx = error["type"], error.get("ctx", {})
    msg = str(error["msg"]).removeprefix("Value error, ")
    if kind in _BOUNDS:
        bound, symbol = _BOUNDS[kind]
        limit = ctx[bound]
        return f"must be {symbol} {limit:g}" if isinstance(limit, int | float) else msg
    if kind.startswith("date"):
        detail = msg.partition(", ")[2]
        return "expected a date YYYY-MM-DD" + (f", {detail}" if detail else "")
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return "expected a mapping of keys"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length', 1)} entry"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {ctx.get('pattern')!r}"
    return "expected " + msg.removeprefix("Input should be ") if "should be" in msg else msg


def _unknown_key(loc: Path_) -> str:
    """'unknown key' with the closest allowed key, or the list of allowed keys."""
    name = str(loc[-1])
    allowed = _allowed_keys(loc[:-1])
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"expected one of: {', '.join(allowed)}"
    return f"unknown key '{name}'; {hint}"


def _bad_tag(error: Any, path: Path_) -> tuple[Path_, str]:
    """A missing or unknown ``dist``/``event`` name, with the known names."""
    disc = str(error["ctx"]["discriminator"]).strip("'\"")
    known, kind = TAGS.get(disc, []), TAG_KIND.get(disc, disc)
    expected = f"expected one of: {', '.join(known)}"
    if error["type"] == "union_tag_not_found":
        return (*path, disc), f"required key is missing; it names the {kind}, {expected}"
    tag = str(error["ctx"]["tag"])
    close = difflib.get_close_matches(tag, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return (*path, disc), f"unknown {kind} '{tag}'; {hint}{expected}"


def _error_text(error: Any, data: Any) -> tuple[Path_, str]:
    """The key path of one pydantic error and what is wrong there."""
    loc = tuple(error["loc"])
    path = _walk_to_yaml_path(data, loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        return path, _unknown_key(loc)
    if kind == "missing":
        return path, f"required key is missing; expected {_expected(_annotation_at(loc))}"
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        return _bad_tag(error, path)
    return path, f"{_message(error)} (got {_show(error.get('input'))})"


def _describe(error: Any, data: Any, source: _Source) -> tuple[int, int, str]:
    """Sort key (unknown keys first, then file order) and the one-line message of an error."""
    path, text = _error_text(error, data)
    key = ".".join(map(str, path)) or "(top level)"
    rank = 0 if error["type"] == "extra_forbidden" else 1
    return rank, source.line_number(path), f"{source.line_of(path)}: {key}: {text}"


def _problem_line(problem: Problem, source: _Source) -> str:
    key = ".".join(map(str, problem.path))
    where = source.line_of(problem.path)
    return f"{where}: {key}: {problem.message} (got {_show(problem.value)})"


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
    source = _Source(filename, lines, _apply_overrides(data, overrides, filename))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        described = sorted(_describe(e, data, source) for e in exc.errors())
        raise ScenarioError([line for _, _, line in described]) from None
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
