"""Reading YAML safely: hostile text gives one line, never a traceback or a hang.

PyYAML's composer and constructor are recursive and expand aliases, so the text is first parsed
into events (the parser is a state machine) and checked against the limits below; only then is
it composed (from those events, not parsed twice) and constructed. Each node is walked once for
the line map and duplicate keys. Errors in constructing a value (``!!bool maybe``, a number too
long to convert) name the file, line and key path.

Limits (a shipped scenario has about 600 values, is nested 7 deep and uses no aliases):

* :data:`MAX_DEPTH` levels of nested mappings and lists;
* :data:`MAX_ALIASES` aliases (``*name``), none inside its own anchor (a cycle);
* :data:`MAX_VALUES` values after expanding aliases (this bounds "billion laughs");
* :data:`MAX_NUMBER_CHARS` characters in a whole number.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from simulation.scenario.errors import Path_, ScenarioError, key_text, show_value

MAX_DEPTH = 32
MAX_ALIASES = 100
MAX_VALUES = 100_000
MAX_NUMBER_CHARS = 100

# what PyYAML's scalar constructors raise on text they cannot convert (besides YAMLError)
_CONVERSION_ERRORS = (ValueError, TypeError, LookupError, AttributeError, ArithmeticError)


class TooComplex(Exception):
    """The YAML breaks one of the limits; ``str()`` says which, ``path`` and ``line`` where."""

    def __init__(self, message: str, path: Path_, line: int) -> None:
        super().__init__(message)
        self.path, self.line = path, line


class BadValue(Exception):
    """A scalar whose tag cannot convert its text, e.g. ``!!bool maybe``, or a number too long."""

    def __init__(self, node: yaml.Node, message: str) -> None:
        super().__init__(message)
        self.node = node


# ---------------------------------------------------------------- constructing values
def _guarded(constructor: Callable[..., Any]) -> Callable[..., Any]:
    """A constructor whose conversion errors become :class:`BadValue` naming the node.

    Only scalars convert text; a collection's constructor raises YAML errors of its own.
    """

    def construct(loader: SafeConstructor, node: yaml.Node) -> Any:
        try:
            return constructor(loader, node)
        except _CONVERSION_ERRORS:
            raise BadValue(node, f"not a valid {_tag_name(node)}") from None

    return construct


def _tag_name(node: yaml.Node) -> str:
    """``!!bool`` for ``tag:yaml.org,2002:bool``."""
    return str(node.tag).replace("tag:yaml.org,2002:", "!!")


class _Constructor(SafeConstructor):
    """SafeConstructor: impossible dates kept as text, long numbers refused, errors located."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date or datetime, or the scalar's text when it is not a real calendar date."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        """A whole number of at most :data:`MAX_NUMBER_CHARS` characters."""
        if len(node.value) > MAX_NUMBER_CHARS:
            raise BadValue(
                node,
                f"number too long ({len(node.value)} characters; at most {MAX_NUMBER_CHARS})",
            )
        return super().construct_yaml_int(node)


def _guard_all() -> None:
    """Wrap every constructor of :class:`_Constructor` (its own overrides included)."""
    for tag, constructor in list(SafeConstructor.yaml_constructors.items()):
        if constructor is None:
            continue
        own = getattr(_Constructor, constructor.__name__)
        _Constructor.add_constructor(tag, _guarded(own))


_guard_all()


class _EventLoader(Composer, _Constructor, Resolver):
    """Composes and constructs a document from already parsed (and checked) events."""

    def __init__(self, events: list[yaml.Event]) -> None:
        self._events = deque(events)
        Composer.__init__(self)
        _Constructor.__init__(self)
        Resolver.__init__(self)

    def check_event(self, *choices: type) -> bool:
        return bool(self._events) and (not choices or isinstance(self._events[0], choices))

    def peek_event(self) -> yaml.Event:
        return self._events[0]

    def get_event(self) -> yaml.Event:
        return self._events.popleft()


# ---------------------------------------------------------------- parsing with limits
@dataclass
class _Level:
    """An open mapping or list while checking events: its label in the key path."""

    is_mapping: bool
    label: str | int = "?"
    expect_key: bool = True
    index: int = 0
    start: int = 0  # values counted before it (for the size of an anchored collection)
    anchor: str | None = None


@dataclass
class _Budget:
    """Depth, aliases and expanded values seen so far; anchors' expanded sizes."""

    levels: list[_Level] = field(default_factory=list)
    aliases: int = 0
    values: int = 0
    sizes: dict[str, int] = field(default_factory=dict)

    def path(self) -> Path_:
        return tuple(level.label for level in self.levels)

    def fail(self, message: str, event: yaml.Event) -> TooComplex:
        mark = event.start_mark
        return TooComplex(message, self.path(), mark.line + 1 if mark is not None else 1)


def _label(budget: _Budget, event: yaml.Event) -> None:
    """Update the key path for a node event inside the innermost open collection."""
    if not budget.levels:
        return
    level = budget.levels[-1]
    if not level.is_mapping:
        level.label, level.index = level.index, level.index + 1
    elif level.expect_key:
        level.label = event.value if isinstance(event, yaml.ScalarEvent) else "?"
        level.expect_key = False
    else:
        level.expect_key = True


def _count(budget: _Budget, event: yaml.Event) -> None:
    """Account one parser event against the limits; raise :class:`TooComplex` past one."""
    if isinstance(event, yaml.ScalarEvent | yaml.AliasEvent | yaml.CollectionStartEvent):
        _label(budget, event)
    if isinstance(event, yaml.AliasEvent):
        budget.aliases += 1
        if budget.aliases > MAX_ALIASES:
            raise budget.fail(f"more than {MAX_ALIASES} aliases; give the values instead", event)
        if any(level.anchor == event.anchor for level in budget.levels):
            raise budget.fail(f"alias *{event.anchor} is inside its own anchor (a cycle)", event)
        budget.values += budget.sizes.get(str(event.anchor), 1)
    elif isinstance(event, yaml.ScalarEvent):
        budget.values += 1
        if event.anchor is not None:
            budget.sizes[event.anchor] = 1
    elif isinstance(event, yaml.CollectionStartEvent):
        if len(budget.levels) >= MAX_DEPTH:
            raise budget.fail(f"nested more than {MAX_DEPTH} levels deep", event)
        is_mapping = isinstance(event, yaml.MappingStartEvent)
        budget.levels.append(_Level(is_mapping, start=budget.values, anchor=event.anchor))
        budget.values += 1
    elif isinstance(event, yaml.CollectionEndEvent):
        level = budget.levels.pop()
        if level.anchor is not None:
            budget.sizes[level.anchor] = budget.values - level.start
    if budget.values > MAX_VALUES:
        raise budget.fail(f"more than {MAX_VALUES} values, counting what each alias repeats", event)


def _checked_events(text: str) -> list[yaml.Event]:
    """The parser events of the first document (and what follows it), within the limits."""
    loader = yaml.SafeLoader(text)  # the Reader checks for unprintable characters here
    try:
        events: list[yaml.Event] = []
        budget = _Budget()
        while loader.check_event():
            event = loader.get_event()
            events.append(event)
            _count(budget, event)
            if isinstance(event, yaml.DocumentEndEvent):
                events.append(loader.get_event())  # the end, or a second document to refuse
                break
        return events
    finally:
        loader.dispose()


def _compose(text: str) -> tuple[yaml.Node | None, _EventLoader]:
    """The composed node of a single-document text and the loader to construct it with."""
    loader = _EventLoader(_checked_events(text))
    return loader.get_single_node(), loader


# ---------------------------------------------------------------- one walk over the nodes
@dataclass
class Survey:
    """What one walk over the composed nodes found."""

    lines: dict[Path_, int] = field(default_factory=dict)  # key path -> 1-based line
    paths: dict[int, Path_] = field(default_factory=dict)  # id(node) -> key path
    duplicates: list[tuple[int, Path_, int]] = field(default_factory=list)  # line, path, first


def _kind(node: yaml.Node) -> str:
    return "mapping" if isinstance(node, yaml.MappingNode) else "list"


def _key_name(key: yaml.Node) -> str:
    return str(key.value) if isinstance(key, yaml.ScalarNode) else f"<{_kind(key)}>"


def survey(root: yaml.Node) -> Survey:
    """Walk each node once (aliased nodes are not walked again): lines, paths, duplicates."""
    found = Survey(lines={(): root.start_mark.line + 1})
    stack: list[tuple[yaml.Node, Path_]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in found.paths:
            continue
        found.paths[id(node)] = path
        children: list[tuple[yaml.Node, Path_]] = []
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                name, line = _key_name(key), key.start_mark.line + 1
                if name in first and name != "<<":
                    found.duplicates.append((line, (*path, name), first[name]))
                first.setdefault(name, line)
                found.lines[(*path, name)] = line
                children.append((value, (*path, name)))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                found.lines[(*path, i)] = item.start_mark.line + 1
                children.append((item, (*path, i)))
        stack.extend(reversed(children))
    return found


# ---------------------------------------------------------------- entry points
def _yaml_problem(exc: yaml.YAMLError, text: str, filename: str) -> str:
    """One line for a YAML syntax error: where the parser stopped and what it expected."""
    if isinstance(exc, yaml.reader.ReaderError):
        return _reader_problem(exc, text, filename)
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


def _reader_problem(exc: yaml.reader.ReaderError, text: str, filename: str) -> str:
    """One line for a character YAML does not allow (NUL, ESC and other control characters)."""
    position = max(0, min(int(exc.position), len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or " ")
    return (
        f"{filename}:{line}: not valid YAML (column {column}): character U+{code:04X} is not "
        "allowed (a control character); remove it"
    )


def _bad_value(exc: BadValue, found: Survey, filename: str) -> str:
    node = exc.node
    path = found.paths.get(id(node), ())
    shown = show_value(node.value) if isinstance(node, yaml.ScalarNode) else f"a {_kind(node)}"
    return f"{filename}:{node.start_mark.line + 1}: {key_text(path)}: {exc} (got {shown})"


def read_yaml(text: str, filename: str) -> tuple[Any, Survey]:
    """The data of a single-document YAML text and its survey; :class:`ScenarioError` if bad."""
    try:
        node, loader = _compose(text)
    except yaml.YAMLError as exc:
        raise ScenarioError([_yaml_problem(exc, text, filename)]) from None
    except TooComplex as exc:
        raise ScenarioError([f"{filename}:{exc.line}: {key_text(exc.path)}: {exc}"]) from None
    if node is None:
        return None, Survey(lines={(): 1})
    found = survey(node)
    if found.duplicates:
        line, path, first = min(found.duplicates, key=lambda duplicate: duplicate[0])
        where = f"{filename}:{line}: {key_text(path)}"
        raise ScenarioError([f"{where}: duplicate key (first given on line {first}); give it once"])
    try:
        return loader.construct_document(node), found
    except yaml.YAMLError as exc:
        raise ScenarioError([_yaml_problem(exc, text, filename)]) from None
    except BadValue as exc:
        raise ScenarioError([_bad_value(exc, found, filename)]) from None


def read_value(raw: str) -> Any:
    """A ``--set`` value read as YAML, or the raw text when it is not valid YAML.

    Raises :class:`TooComplex` when the value breaks a limit (too deep, too many aliases).
    """
    try:
        node, loader = _compose(raw)
        return loader.construct_document(node) if node is not None else None
    except (yaml.YAMLError, BadValue):
        return raw
