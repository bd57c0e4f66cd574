"""``--set KEY.PATH=VALUE``: overriding one value of the raw scenario before validation;
``--set KEY.PATH+=VALUE`` appends VALUE to the list at KEY.PATH (e.g. a timeline event), so
adding an event does not mean replacing (and silently dropping) the ones already there.

The value is read as YAML with the same limits as a file (:mod:`simulation.scenario.reading`);
every error is one line ``FILE: --set KEY=VALUE: key.path: what is wrong``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulation.scenario.errors import (
    Path_,
    ScenarioError,
    allowed_keys,
    clip,
    has_index,
    key_text,
    show_value,
)
from simulation.scenario.reading import TooComplex, read_value
from simulation.scenario.suggest import did_you_mean

MAX_INDEX_DIGITS = 9  # a list index longer than this cannot exist in a scenario file


def _part(text: str) -> str | int:
    """A key path part: a list index when it is a short run of ASCII digits, else a key."""
    if text.isascii() and text.isdigit() and len(text) <= MAX_INDEX_DIGITS:
        return int(text)
    return text


def apply_override(data: dict[str, Any], assignment: str) -> Path_:
    """Set ``a.b.c=value`` in the raw scenario (value parsed as YAML); return the key path."""
    key, sep, raw = assignment.partition("=")
    append = key.endswith("+")
    key = key.removesuffix("+")
    if not sep or not key:
        raise ScenarioError([f"--set {clip(assignment)}: expected KEY.PATH=VALUE, e.g. run.seed=7"])
    parts = [_part(p) for p in key.split(".")]
    node = _node_at(data, parts, assignment)
    last = parts[-1]
    if append:
        return _append(node, parts, raw, assignment)
    if not (isinstance(node, dict) or has_index(node, last)):
        problem = _no_such(node, parts[-1:], raw, parts[:-1])
        raise ScenarioError([f"--set {clip(assignment)}: {key_text(parts)}: {problem}"])
    try:
        node[last] = read_value(raw)
    except TooComplex as exc:
        where = key_text([*parts, *exc.path])
        raise ScenarioError([f"--set {clip(assignment)}: {where}: {exc}"]) from None
    return tuple(parts)


def _append(node: Any, parts: list[str | int], raw: str, assignment: str) -> Path_:
    """Append the value to the list at ``parts`` (a missing list key starts a new list)."""
    last = parts[-1]
    if isinstance(node, dict) and last not in node and str(last) in allowed_keys(tuple(parts[:-1])):
        node[last] = []
    target = node[last] if isinstance(node, dict) and last in node else None
    if has_index(node, last):
        target = node[last]
    if not isinstance(target, list):
        problem = "not a list, so nothing can be appended; use KEY=VALUE to replace it"
        if target is None:
            problem = _no_such(node, parts[-1:], raw, parts[:-1])
        raise ScenarioError([f"--set {clip(assignment)}: {key_text(parts)}: {problem}"])
    try:
        target.append(read_value(raw))
    except TooComplex as exc:
        where = key_text([*parts, *exc.path])
        raise ScenarioError([f"--set {clip(assignment)}: {where}: {exc}"]) from None
    return (*parts, len(target) - 1)


def _node_at(data: Any, parts: Sequence[str | int], assignment: str) -> Any:
    """The raw value holding the last of ``parts``; the ones before must exist in the file."""
    node = data
    for i, part in enumerate(parts[:-1]):
        if (isinstance(node, dict) and part in node) or has_index(node, part):
            node = node[part]
            continue
        problem = _no_such(node, parts[i:], assignment.partition("=")[2], parts[:i])
        raise ScenarioError([f"--set {clip(assignment)}: {key_text(parts[: i + 1])}: {problem}"])
    return node


def _no_such(
    node: Any, parts: Sequence[str | int], raw: str, above: Sequence[str | int] = ()
) -> str:
    """Why ``parts[0]`` cannot be followed inside ``node`` (found at ``above``); what could be."""
    part = parts[0]
    if isinstance(node, dict) and str(part) in allowed_keys(tuple(above)):
        return (
            f"not in the file, so --set cannot reach inside it; set it whole instead, "
            f"e.g. --set '{key_text([*above, part])}={clip(_nested(parts[1:], raw))}'"
        )
    if isinstance(node, dict):
        keys = [str(k) for k in node]
        hint = did_you_mean(str(part), keys, f"the file has: {clip(', '.join(keys))}")
        return f"no such key in the file; {hint}"
    if isinstance(node, list):
        span = f"0..{len(node) - 1}" if node else "none, the list is empty"
        return f"no such item; expected an index {span}"
    return f"cannot go inside the value {show_value(node)}"


def _nested(parts: Sequence[str | int], raw: str) -> str:
    """``{a: {b: raw}}`` for ``parts`` ``a.b``: a flow mapping to give a whole section."""
    return "".join(f"{{{part}: " for part in parts) + clip(raw, 100) + "}" * len(parts)


def apply_overrides(
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
