"""Hostile scenario files and ``--set`` texts: one line naming the file, exit 2, no traceback.

Each case runs ``repatsim validate`` in-process through :func:`tests.fuzzing.validate`, which
also fails the case if it takes more than a few seconds (alias bombs once hung). A seeded mutation
fuzzer over the shipped scenarios (:mod:`tests.fuzzing`) checks that every mutant is either valid
or refused with one line.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from simulation.cli import main
from simulation.scenario.load import MAX_FILE_BYTES, ScenarioError, load_scenario, parse_scenario
from simulation.scenario.reading import MAX_ALIASES, MAX_DEPTH, MAX_VALUES
from tests.fuzzing import SCENARIOS, fuzz, validate
from tests.test_validation import BASE, mutate, write

FOLDER_NAME = (
    "expected a name usable as a folder name: a letter or digit, then up to 79 letters, digits, "
    "'.', '_' or '-' (pattern ^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$)"
)


def refused(path: Path, *argv: str) -> str:
    """The one stderr line of validating ``path`` (exit 2, naming the file), after ``error: ``."""
    outcome = validate(path, argv)
    assert outcome.kind == "error", outcome.detail
    return outcome.detail.removeprefix("error: ")


def laughs(indent: str = "") -> str:
    """A "billion laughs" alias bomb: ten levels, each ten aliases of the one before."""
    first = f"{indent}lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    return first + "".join(
        f"{indent}lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10)
    )


def _deep(opening: str, closing: str, depth: int = 5000) -> str:
    return opening * depth + "1" + closing * depth


# ---------------------------------------------------------------- hostile files
# (id, file text, expected line after "FILE")
CASES = [
    (
        "nested_flow_mappings",
        f"name: x\nrun: {_deep('{a: ', '}')}\n",
        f":2: {'.'.join(['run'] + ['a'] * (MAX_DEPTH - 1))}: nested more than 32 levels deep",
    ),
    (
        "nested_flow_lists",
        f"name: x\nrun: {_deep('[', ']')}\n",
        f":2: {'.'.join(['run'] + ['0'] * (MAX_DEPTH - 1))}: nested more than 32 levels deep",
    ),
    (
        "nested_block_mappings",
        "".join("  " * i + f"k{i}:\n" for i in range(40)),
        f":33: {'.'.join(f'k{i}' for i in range(MAX_DEPTH))}: nested more than 32 levels deep",
    ),
    (
        "escape_character",
        "name: mini\x1b[31m\n",
        ":1: not valid YAML (column 11): character U+001B is not allowed (a control "
        "character); remove it",
    ),
    (
        "nul_in_a_key",
        "name: x\ncal\x00endar: 1\n",
        ":2: not valid YAML (column 4): character U+0000 is not allowed (a control character); "
        "remove it",
    ),
    (
        "delete_character",
        "name: x\x7f\n",
        ":1: not valid YAML (column 8): character U+007F is not allowed (a control character); "
        "remove it",
    ),
    (
        "number_of_thousands_of_digits",
        "name: x\nrun: {seed: " + "9" * 5000 + "}\n",
        f":2: run.seed: number too long (5000 characters; at most 100) (got '{'9' * 96}...)",
    ),
    (
        "hexadecimal_number_of_thousands_of_digits",
        "name: x\nrun: {seed: 0x" + "f" * 5000 + "}\n",
        f":2: run.seed: number too long (5002 characters; at most 100) (got '0x{'f' * 94}...)",
    ),
    (
        "bool_tag_on_other_text",
        'name: x\nrun: {seed: !!bool "maybe"}\n',
        ":2: run.seed: not a valid !!bool (got 'maybe')",
    ),
    ("int_tag_on_text", 'name: !!int "x"\n', ":1: name: not a valid !!int (got 'x')"),
    ("float_tag_on_text", "name: !!float x\n", ":1: name: not a valid !!float (got 'x')"),
    (
        "timestamp_tag_on_text",
        "name: !!timestamp x\n",
        ":1: name: not a valid !!timestamp (got 'x')",
    ),
    (
        "python_tag",
        "name: !!python/object:os.system x\n",
        ":1: not valid YAML (column 7): could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object:os.system'",
    ),
    (
        "billion_laughs",
        laughs(),
        f":5: lol4.7: more than {MAX_VALUES} values, counting what each alias repeats",
    ),
    (
        "too_many_aliases",
        "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n",
        f":2: b.{MAX_ALIASES}: more than {MAX_ALIASES} aliases; give the values instead",
    ),
    (
        "alias_inside_its_anchor",
        "name: x\nrun: &r {a: *r}\n",
        ":2: run.a: alias *r is inside its own anchor (a cycle)",
    ),
    (
        "undefined_alias",
        "name: *nowhere\n",
        ":1: not valid YAML (column 7): found undefined alias 'nowhere'",
    ),
    (
        "list_as_a_key",
        "name: x\n? [a, b]\n: 1\n",
        ":2: not valid YAML (column 3): found unhashable key "
        "(while constructing a mapping, line 1)",
    ),
    (
        "newline_in_a_key",
        BASE + '"run\\n.seed": 7\n',
        f":{BASE.count(chr(10)) + 1}: run\\n.seed: unknown key 'run\\n.seed'; expected one of: "
        "name, description, sources, calendar, run, populations, crackdown, crossings, demand, "
        "timeline",
    ),
    (
        "escape_in_a_key",
        BASE + '"\\e[31mred": 7\n',
        f":{BASE.count(chr(10)) + 1}: \\x1b[31mred: unknown key '\\x1b[31mred'; expected one "
        "of: name, description, sources, calendar, run, populations, crackdown, crossings, "
        "demand, timeline",
    ),
    (
        "line_separator_in_a_value",
        mutate("name: mini", 'name: "a\\u2028b"'),
        f":1: name: {FOLDER_NAME} (got 'a\\u2028b')",
    ),
    (
        "million_digit_number",
        "name: x\nrun: {seed: " + "9" * 1_000_000 + "}\n",
        f": file too large; a scenario file is at most {MAX_FILE_BYTES} bytes",
    ),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_hostile_file_is_one_line(tmp_path, text, expected):
    path = write(tmp_path, text)
    assert refused(path) == f"{path}{expected}"


def test_file_over_the_size_limit_is_refused_up_front(tmp_path):
    path = write(tmp_path, BASE + "#" * MAX_FILE_BYTES)
    assert refused(path) == f"{path}: file too large; a scenario file is at most 1000000 bytes"


def test_file_over_the_size_limit_in_bytes_but_not_characters(tmp_path):
    path = write(tmp_path, BASE + "#" + "é" * (MAX_FILE_BYTES // 2))
    assert refused(path) == f"{path}: file too large; a scenario file is at most 1000000 bytes"


def test_text_over_the_size_limit(tmp_path):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(BASE + "#" * MAX_FILE_BYTES, "given.yaml")
    assert str(info.value) == "given.yaml: text too large; a scenario is at most 1000000 characters"


def test_file_at_the_size_limit_is_read(tmp_path):
    text = BASE + "#" * (MAX_FILE_BYTES - len(BASE.encode()))
    assert load_scenario(write(tmp_path, text)).name == "mini"


def test_folder_instead_of_a_file(tmp_path):
    assert refused(tmp_path) == f"{tmp_path}: cannot read the file (Is a directory)"


def test_anchors_aliases_and_merge_keys_still_work(tmp_path):
    text = mutate(
        "    dwell_hours: {dist: fixed, value: 12.0}",
        "    dwell_hours: &slow {dist: fixed, value: 12.0}",
    )
    text = mutate("travel_hours: {dist: fixed, value: 10.0}", "travel_hours: *slow", text)
    text = mutate(
        "opening_hours: {open_hour: 7, close_hour: 19}",
        "opening_hours: {<<: {open_hour: 7, close_hour: 12}, close_hour: 19}",
        text,
    )
    scenario = load_scenario(write(tmp_path, text))
    gate = scenario.crossings["gate"]
    assert gate.divert is not None and gate.divert.travel_hours.value == 12.0  # type: ignore[union-attr]
    assert gate.opening_hours is not None and gate.opening_hours.close_hour == 19


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenarios_validate(path, capsys):
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {path} (")


# ---------------------------------------------------------------- hostile --set texts
def _flow_laughs() -> str:
    levels = [f"l0: &l0 [{', '.join(['x'] * 10)}]"] + [
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)
    ]
    return "{" + ", ".join(levels) + "}"


SET_CASES = [
    (
        "nested_value",
        "run=" + _deep("{a: ", "}"),
        f"{'.'.join(['run'] + ['a'] * MAX_DEPTH)}: nested more than 32 levels deep",
    ),
    (
        "alias_bomb",
        "run=" + _flow_laughs(),
        f"run.l4.7: more than {MAX_VALUES} values, counting what each alias repeats",
    ),
    (
        "newline_in_the_key",
        "run\n.seed=7",
        "run\\n: no such key in the file; the file has: name, calendar, populations, crackdown, "
        "crossings, demand, timeline",
    ),
    ("escape_in_the_value", "name=x\x1by", f"name: {FOLDER_NAME} (got 'x\\x1by')"),
    ("unicode_digit_as_index", "demand.²=1", "demand.²: no such item; expected an index 0..0"),
    (
        "index_of_thousands_of_digits",
        "demand." + "9" * 5000 + ".crossing=x",
        f"{'demand.' + '9' * 190}...: no such item; expected an index 0..0",
    ),
    (
        "thousands_of_parts_into_a_missing_section",
        "run." + "a." * 3000 + "b=1",
        "run: not in the file, so --set cannot reach inside it; set it whole instead, e.g. "
        f"--set 'run={'{a: ' * 49}{{...'",
    ),
]


def _echo(assignment: str) -> str:
    """The ``--set`` text as a message echoes it: control characters escaped, cut at 200."""
    text = assignment.replace("\n", "\\n").replace("\x1b", "\\x1b")
    return text if len(text) <= 200 else text[:197] + "..."


@pytest.mark.parametrize(
    ("assignment", "expected"), [pytest.param(*c[1:], id=c[0]) for c in SET_CASES]
)
def test_hostile_set_is_one_line(tmp_path, assignment, expected):
    path = write(tmp_path, BASE)
    assert refused(path, "--set", assignment) == f"{path}: --set {_echo(assignment)}: {expected}"


# ---------------------------------------------------------------- mutation fuzzing
FUZZ_CHUNKS, FUZZ_MUTANTS = 4, 100


def _fuzz_and_check(tmp_path: Path, seed: int, count: int) -> None:
    results = fuzz(seed, count, tmp_path)
    broken = [(done, outcome.detail) for done, outcome in results if outcome.kind == "broken"]
    assert not broken, broken[:5]
    kinds = Counter(outcome.kind for _, outcome in results)
    assert kinds["error"] >= count // 2 and kinds["ok"] >= 1, kinds  # the mutations do bite


@pytest.mark.parametrize("seed", range(FUZZ_CHUNKS))
def test_mutated_scenarios_are_valid_or_one_line(tmp_path, seed):
    _fuzz_and_check(tmp_path, seed, FUZZ_MUTANTS)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 104))
def test_many_mutated_scenarios_are_valid_or_one_line(tmp_path, seed):
    _fuzz_and_check(tmp_path, seed, 2500)
