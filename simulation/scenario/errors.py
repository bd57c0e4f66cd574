"""One-line messages for scenario errors: file, line (or ``--set``), key path, what is wrong.

Pydantic reports a location inside its own schema (with union tags and wrappers); these helpers
map it back to the key path in the YAML and its line, and phrase what is expected in the
scenario's own terms, with a "did you mean" for misspelt keys and names.
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from simulation.scenario.rules import Problem
from simulation.scenario.schema import Distribution, Scenario, TimelineEvent
from simulation.scenario.suggest import did_you_mean

Path_ = tuple[str | int, ...]


def printable(text: str) -> str:
    """``text`` on one line: each unprintable character (newline, ESC, NUL, U+2028...) escaped.

    Escapes look like Python's (``\\n``, ``\\x1b``, ``\\u2028``); printable text is unchanged.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def clip(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters (ending ``...`` when cut), for echoing input."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def key_text(path: Sequence[str | int]) -> str:
    """A key path as written in messages: ``a.b.0.c``, or ``(top level)`` when empty."""
    return clip(printable(".".join(map(str, path)))) or "(top level)"


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``str()`` is one line: file, line, key, what is wrong.

    Every line is passed through :func:`printable`, so no key, value, file name or ``--set``
    text echoed in it can break it over several lines.
    """

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = [printable(line) for line in lines]
        extra = f" (+{len(lines) - 1} more)" if len(lines) > 1 else ""
        super().__init__(self.lines[0] + extra)


@dataclass(frozen=True)
class Source:
    """Where the raw scenario came from, to point errors at lines."""

    filename: str
    lines: dict[Path_, int]
    overrides: dict[Path_, str]
    files: dict[Path_, str] | None = None  # key path -> the file it came from (``extends``)

    def override_of(self, path: Path_) -> str | None:
        """The ``--set`` assignment that gave the value at ``path`` (or above it), if any."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.overrides:
                return self.overrides[path[:end]]
        return None

    def _known(self, path: Path_) -> Path_:
        """The deepest prefix of ``path`` whose line is known."""
        probe = path
        while probe not in self.lines and probe:
            probe = probe[:-1]
        return probe

    def line_number(self, path: Path_) -> int:
        """1-based line of the deepest key of ``path`` in its file; 0 for a ``--set`` value."""
        if self.override_of(path) is not None:
            return 0
        return self.lines.get(self._known(path), 1)

    def file_of(self, path: Path_) -> str:
        """The file the value at ``path`` came from (a parent, with ``extends``)."""
        return (self.files or {}).get(self._known(path), self.filename)

    def line_of(self, path: Path_) -> str:
        """``FILE:LINE`` or ``FILE: --set KEY=VALUE`` for the value at ``path``."""
        assignment = self.override_of(path)
        if assignment is not None:
            return f"{self.filename}: --set {clip(assignment)}"
        return f"{self.file_of(path)}:{self.line_number(path)}"


def has_index(node: Any, part: str | int) -> bool:
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


def _annotation_at(loc: Iterable[str | int], root: Any = Scenario) -> Any:
    """The schema annotation at a pydantic error location (None when it cannot be followed);
    ``root`` is the model validated (a scenario, or an experiment file)."""
    annotation: Any = root
    for part in loc:
        annotation = _step(annotation, part) if annotation is not None else None
    return annotation


def allowed_keys(loc: Iterable[str | int], root: Any = Scenario) -> list[str]:
    """The keys the schema allows in the mapping at ``loc``."""
    model = _strip(_annotation_at(loc, root))
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
        if (isinstance(node, dict) and part in node) or has_index(node, part):
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


def show_value(value: Any, limit: int = 100) -> str:
    """A value as one short line: YAML-like mappings and lists, dates as text.

    Only the first ``limit`` characters are built, however large the value.
    """
    pieces, size = [], 0
    for piece in _pieces(value):
        pieces.append(piece)
        size += len(piece)
        if size > limit:
            break
    text = printable("".join(pieces))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _pieces(value: Any) -> Iterator[str]:
    """The text of ``value`` in pieces, so that a caller can stop early."""
    if isinstance(value, dict):
        yield "{"
        for i, (k, v) in enumerate(value.items()):
            yield f"{', ' if i else ''}{str(k)[:100]}: "
            yield from _pieces(v)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        for i, item in enumerate(value):
            yield ", " if i else ""
            yield from _pieces(item)
        yield "]"
    elif isinstance(value, dt.date):
        yield repr(value.isoformat())
    elif isinstance(value, int) and value.bit_length() > 300:
        yield f"<a number of about {int(value.bit_length() * 0.30103)} digits>"
    elif isinstance(value, str | bytes) and len(value) > 200:
        yield repr(value[:200])
    else:
        yield repr(value)


_BOUNDS = {
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
    "less_than_equal": ("le", "<="),
    "less_than": ("lt", "<"),
}


def _number(limit: float) -> str:
    """A bound as written in messages: ``24``, ``0.5``, ``100000``, ``1e9``, ``1e-06``."""
    if isinstance(limit, int) or limit.is_integer():
        digits = str(int(limit))
        return f"1e{len(digits) - 1}" if len(digits) > 6 and digits.rstrip("0") == "1" else digits
    return f"{limit:g}".replace("e+", "e")


def _message(error: Any) -> str:
    """What is wrong with a value, phrased as what is expected."""
    kind, ctx = error["type"], error.get("ctx", {})
    msg = str(error["msg"]).removeprefix("Value error, ")
    if kind in _BOUNDS:
        bound, symbol = _BOUNDS[kind]
        limit = ctx[bound]
        return f"must be {symbol} {_number(limit)}" if isinstance(limit, int | float) else msg
    if kind == "finite_number":
        return "expected a finite number, not infinity or NaN"
    if kind.startswith("date"):
        detail = msg.partition(", ")[2]
        return "expected a date YYYY-MM-DD" + (f", {detail}" if detail else "")
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return "expected a mapping of keys"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length', 1)} entry"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {ctx.get('pattern')!r}"
    if kind == "int_parsing_size":
        return "expected a whole number, not so many digits"
    return "expected " + msg.removeprefix("Input should be ") if "should be" in msg else msg


def _unknown_key(loc: Path_, root: Any) -> str:
    """'unknown key' with the closest allowed key, or the list of allowed keys."""
    name = str(loc[-1])
    allowed = allowed_keys(loc[:-1], root)
    hint = did_you_mean(name, allowed, f"expected one of: {', '.join(allowed)}")
    return f"unknown key '{name}'; {hint}"


def _bad_tag(error: Any, path: Path_) -> tuple[Path_, str]:
    """A missing or unknown ``dist``/``event`` name, with the known names."""
    disc = str(error["ctx"]["discriminator"]).strip("'\"")
    known, kind = TAGS.get(disc, []), TAG_KIND.get(disc, disc)
    expected = f"expected one of: {', '.join(known)}"
    if error["type"] == "union_tag_not_found":
        return (*path, disc), f"required key is missing; it names the {kind}, {expected}"
    tag = str(error["ctx"]["tag"])
    hint = f"{did_you_mean(tag, known)} ".lstrip()
    return (*path, disc), f"unknown {kind} '{tag}'; {hint}{expected}"


def _error_text(error: Any, data: Any, root: Any) -> tuple[Path_, str]:
    """The key path of one pydantic error and what is wrong there."""
    loc = tuple(error["loc"])
    path = _walk_to_yaml_path(data, loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        return path, _unknown_key(loc, root)
    if kind == "missing":
        return path, f"required key is missing; expected {_expected(_annotation_at(loc, root))}"
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        return _bad_tag(error, path)
    return path, f"{_message(error)} (got {show_value(error.get('input'))})"


def describe_error(
    error: Any, data: Any, source: Source, root: Any = Scenario
) -> tuple[int, int, str]:
    """Sort key (unknown keys first, then file order) and the one-line message of an error."""
    path, text = _error_text(error, data, root)
    key = key_text(path)
    rank = 0 if error["type"] == "extra_forbidden" else 1
    return rank, source.line_number(path), f"{source.line_of(path)}: {key}: {text}"


def describe_problem(problem: Problem, source: Source) -> str:
    key = key_text(problem.path)
    where = source.line_of(problem.path)
    return f"{where}: {key}: {problem.message} (got {show_value(problem.value)})"
