"""``extends: base.yaml``: a scenario file written as changes to another.

The merge rules, applied from the most basic file to the most derived:

- a **mapping** is merged key by key: a key the child gives replaces the parent's value at that
  key (recursively, for mappings inside mappings); keys the child leaves out are inherited;
- a **list** or a plain value the child gives replaces the parent's whole;
- a key written ``key+`` (for example ``timeline+:``) **appends** the child's list to the
  parent's, so a variant adds a policy event without repeating (or dropping) the others;
- ``extends`` is a path relative to the file that names it; chains are allowed (at most
  :data:`MAX_CHAIN` files), cycles are an error.

Every value remembers the file and line it came from, so an error names the parent or the
child, whichever holds the bad value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulation.scenario.errors import Path_, ScenarioError, key_text, show_value
from simulation.scenario.reading import read_yaml

MAX_CHAIN = 8
EXTENDS = "extends"
APPEND = "+"


@dataclass
class Composed:
    """The merged raw scenario, and for every key path its line and its file."""

    data: dict[str, Any]
    lines: dict[Path_, int] = field(default_factory=dict)
    files: dict[Path_, str] = field(default_factory=dict)


def compose(text: str, filename: str, read: Any, chain: tuple[Path, ...] = ()) -> Composed:
    """The scenario in ``text`` with its ``extends`` chain merged in; ``read(path)`` returns a
    parent file's text (size limits and decoding are the caller's)."""
    data, found = read_yaml(text, filename)
    if not isinstance(data, dict):
        raise ScenarioError(
            [f"{filename}:1: (top level): expected a mapping of sections (got {show_value(data)})"]
        )
    own = Composed(data, dict(found.lines), dict.fromkeys(found.lines, filename))
    parent_ref = data.pop(EXTENDS, None)
    if parent_ref is None:
        return _appends_to_nothing(own)
    where = f"{filename}:{found.lines.get((EXTENDS,), 1)}: {EXTENDS}"
    parent_path = _parent(parent_ref, filename, where, chain)
    parent = compose(read(parent_path), str(parent_path), read, (*chain, parent_path))
    return merge(parent, own)


def _parent(ref: Any, filename: str, where: str, chain: tuple[Path, ...]) -> Path:
    """The file ``ref`` names, checked: a path, existing, not in a cycle, not too deep."""
    if not isinstance(ref, str) or not ref.strip():
        raise ScenarioError([f"{where}: expected a file path (got {show_value(ref)})"])
    base = Path(filename).parent if not filename.startswith("<") else Path.cwd()
    path = (base / ref).resolve()
    if not path.is_file():
        raise ScenarioError([f"{where}: no such file {path} (a path relative to {filename})"])
    here = Path(filename).resolve() if not filename.startswith("<") else None
    if path in chain or path == here:
        raise ScenarioError([f"{where}: {ref} extends itself through its chain (a cycle)"])
    if len(chain) + 1 >= MAX_CHAIN:
        raise ScenarioError([f"{where}: more than {MAX_CHAIN} files in the extends chain"])
    return path


def merge(parent: Composed, child: Composed) -> Composed:
    """``child`` merged onto ``parent`` by the rules of this module."""
    out = Composed(parent.data, dict(parent.lines), dict(parent.files))
    _merge_into(out, (), parent.data, child.data, child)
    return out


def _merge_into(out: Composed, path: Path_, target: dict[str, Any], given: dict[str, Any],
                child: Composed) -> None:  # fmt: skip
    for key, value in given.items():
        name = key.removesuffix(APPEND) if isinstance(key, str) else key
        here = (*path, name)
        if isinstance(key, str) and key.endswith(APPEND) and name:
            _append(out, here, target, value, child, (*path, key))
        elif isinstance(value, dict) and isinstance(target.get(name), dict):
            _take(out, here, child, (*path, key), keep_below=True)
            _merge_into(out, here, target[name], value, child)
        else:
            _take(out, here, child, (*path, key), keep_below=False)
            target[name] = value


def _take(out: Composed, here: Path_, child: Composed, source: Path_, keep_below: bool) -> None:
    """Point ``here`` (and, unless merged, everything below it) at the child's lines."""
    if not keep_below:
        for known in [p for p in out.lines if p[: len(here)] == here]:
            del out.lines[known], out.files[known]
    for known, line in child.lines.items():
        if known[: len(source)] == source and (keep_below is False or known == source):
            moved = (*here, *known[len(source) :])
            out.lines[moved], out.files[moved] = line, child.files[known]


def _append(out: Composed, here: Path_, target: dict[str, Any], value: Any, child: Composed,
            source: Path_) -> None:  # fmt: skip
    """``key+: [...]`` (or one item): the items go after the parent's list."""
    items = value if isinstance(value, list) else [value]
    name = str(here[-1])
    existing = target.get(name)
    if existing is None:
        existing = target[name] = []
    if not isinstance(existing, list):
        where = f"{child.files.get(source, '?')}:{child.lines.get(source, 1)}: {key_text(here)}"
        raise ScenarioError([f"{where}: the parent's value is not a list; nothing to append to"])
    offset = len(existing)
    existing.extend(items)
    single = not isinstance(value, list)
    for known, line in child.lines.items():
        if known[: len(source)] != source or known == source:
            if known == source:
                out.lines[here], out.files[here] = line, child.files[known]
            continue
        rest = known[len(source) :]
        index = offset if single else offset + int(rest[0])
        tail = rest if single else rest[1:]
        moved = (*here, index, *tail)
        out.lines[moved], out.files[moved] = line, child.files[known]


def _appends_to_nothing(own: Composed) -> Composed:
    """A file with no parent: ``key+`` simply gives the list."""
    empty = Composed({}, {}, {})
    return merge(empty, own) if any(str(k).endswith(APPEND) for k in own.data) else own
