"""extends: a scenario written as changes to another, with merge rules and errors that name the
file (parent or child) holding the bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation import ScenarioError, load_scenario
from tests.conftest import APPENDED, ROOT

BASE = ROOT / "scenarios" / "textbook_mmc.yaml"
DEFAULT = ROOT / "scenarios" / "torkham_2025_acc.yaml"


def _child(tmp_path: Path, text: str, name: str = "child.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_child_changes_one_value_and_inherits_the_rest(tmp_path: Path) -> None:
    child = _child(tmp_path, f"extends: {BASE}\nname: faster\n"
                   "crossings: {gate: {stages: {desk: {servers: 9}}}}\n")  # fmt: skip
    base, derived = load_scenario(BASE), load_scenario(child)
    assert derived.name == "faster"
    assert derived.crossings["gate"].stages["desk"].servers == 9
    # mappings merge: the desk keeps its service time; other sections are inherited
    assert derived.crossings["gate"].stages["desk"].service_minutes == (
        base.crossings["gate"].stages["desk"].service_minutes
    )
    assert derived.demand == base.demand and derived.calendar == base.calendar


def test_a_list_is_replaced_and_key_plus_appends(tmp_path: Path) -> None:
    event = "{event: capacity_change, date: 2025-05-01, crossing: torkham, stage: gate, servers: 6}"
    replaced = _child(tmp_path, f"extends: {DEFAULT}\ntimeline: [{event}]\n", "a.yaml")
    appended = _child(tmp_path, f"extends: {DEFAULT}\ntimeline+: [{event}]\n", "b.yaml")
    base = load_scenario(DEFAULT)
    assert [e.event for e in load_scenario(replaced).timeline] == ["capacity_change"]
    longer = load_scenario(appended).timeline
    assert longer[: len(base.timeline)] == base.timeline and len(longer) == len(base.timeline) + 1


def test_a_bad_value_in_the_parent_names_the_parent(tmp_path: Path) -> None:
    parent = _child(tmp_path, BASE.read_text().replace("servers: 8 ", "servers: -8 "), "p.yaml")
    child = _child(tmp_path, "extends: p.yaml\nname: child\n")
    line = next(i for i, s in enumerate(parent.read_text().splitlines(), 1) if "servers: -8" in s)
    assert _error(child).startswith(f"{parent}:{line}: crossings.gate.stages.desk.servers:")


def test_a_bad_value_in_the_child_names_the_child(tmp_path: Path) -> None:
    child = _child(tmp_path, f"extends: {BASE}\n\ncrossings: {{gate: {{stages: {{desk: "
                   "{servers: -1}}}}\n")  # fmt: skip
    assert _error(child).startswith(f"{child}:3: crossings.gate.stages.desk.servers:")


def test_an_appended_item_is_pointed_at_in_the_child(tmp_path: Path) -> None:
    child = _child(tmp_path, f"extends: {DEFAULT}\ntimeline+:\n  - event: closure\n"
                   "    date: 2025-04-10\n    crossing: torkam\n    end: 2025-04-12\n")  # fmt: skip
    message = _error(child)
    assert message.startswith(f"{child}:5: timeline.{APPENDED}.crossing: unknown crossing")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("extends: nowhere.yaml\n", "extends: no such file"),
        ("extends: 3\n", "extends: expected a file path"),
        ("extends: child.yaml\n", "extends itself"),
    ],
)
def test_bad_extends_are_one_line(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in _error(_child(tmp_path, text))


def test_a_cycle_through_two_files_is_refused(tmp_path: Path) -> None:
    _child(tmp_path, "extends: b.yaml\n", "a.yaml")
    b = _child(tmp_path, "extends: a.yaml\n", "b.yaml")
    assert "a cycle" in _error(b)


def test_a_chain_too_long_is_refused(tmp_path: Path) -> None:
    _child(tmp_path, BASE.read_text(), "f0.yaml")
    for k in range(1, 10):
        _child(tmp_path, f"extends: f{k - 1}.yaml\n", f"f{k}.yaml")
    assert "more than 8 files" in _error(tmp_path / "f9.yaml")


def test_the_shipped_variants_are_the_default_plus_their_change() -> None:
    variant = load_scenario(ROOT / "scenarios" / "variants" / "acc_deadline_plus30.yaml")
    event = ("{event: deadline_extension, date: 2025-03-20, group: acc, "
             "new_deadline: 2025-04-30}")  # fmt: skip
    same = load_scenario(DEFAULT, [f"timeline+={event}", f"name={variant.name}",
                                   f"description={variant.description!r}"])  # fmt: skip
    assert variant.model_dump() == same.model_dump()
