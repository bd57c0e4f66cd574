"""--set KEY+=VALUE appends to a list, so adding a timeline event keeps the others."""

from __future__ import annotations

import pytest

from simulation import ScenarioError, load_scenario
from tests.conftest import APPENDED, ROOT

DEFAULT = ROOT / "scenarios" / "torkham_2025_acc.yaml"
EXTENSION = "{event: deadline_extension, date: 2025-03-20, group: acc, new_deadline: 2025-04-30}"


def test_append_keeps_the_events_already_there() -> None:
    base = load_scenario(DEFAULT)
    longer = load_scenario(DEFAULT, [f"timeline+={EXTENSION}"])
    assert longer.timeline[: len(base.timeline)] == base.timeline
    assert longer.timeline[-1].event == "deadline_extension"


def test_append_starts_a_list_the_file_lacks() -> None:
    mmc = ROOT / "scenarios" / "textbook_mmc.yaml"
    change = "{event: capacity_change, date: 2025-01-10, crossing: gate, stage: desk, servers: 9}"
    scenario = load_scenario(mmc, [f"timeline+={change}"])
    assert len(scenario.timeline) == 1


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("run+=3", "run: not a list, so nothing can be appended; use KEY=VALUE to replace it"),
        ("timelin+=1", "timelin: no such key in the file; did you mean 'timeline'?"),
        ("timeline+={event: nope}", f"timeline.{APPENDED}.event: unknown timeline event 'nope'"),
    ],
)
def test_append_errors_are_one_line(assignment: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(DEFAULT, [assignment])
    line = str(info.value)
    assert "\n" not in line and message in line and f"--set {assignment}" in line
