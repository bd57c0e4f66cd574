"""size: the smallest server count meeting a target, found on common random numbers."""

from __future__ import annotations

import math

import pytest

from simulation import load_scenario
from simulation.experiments.sizing import parse_target, size
from simulation.theory import mmc
from tests.conftest import ROOT

MMC = ROOT / "scenarios" / "textbook_mmc.yaml"


def test_size_on_a_textbook_mmc_gives_the_erlang_c_answer() -> None:
    """lambda = 20/h, mu = 3/h: Erlang C gives Wq = 0.861 h with 7 servers and 0.133 h with 8.
    A target of sqrt(0.861 * 0.133) = 0.339 h lies far from both, so the answer is 8."""
    waits = {c: mmc(20.0, 3.0, c).wait_hours for c in (7, 8)}
    target = math.sqrt(waits[7] * waits[8])
    expected = min(c for c in range(7, 12) if mmc(20.0, 3.0, c).wait_hours <= target)
    assert expected == 8
    scenario = load_scenario(MMC, ["calendar.end=2025-01-31"])
    result = size(scenario, "gate", "desk", f"mean_wait_hours<={target}", 0.9, 4, seed=3)
    assert result.servers == expected
    tried = result.evidence.set_index("servers")
    assert tried.loc[7, "met"] == 0 and tried.loc[8, "met"] == 4
    assert list(tried.index) == [4, 6, 7, 8]  # from its own 8: bisect 0..8, not a scan of 1..8
    assert "no dated server changes" in result.note


def test_size_says_when_the_target_cannot_be_met() -> None:
    scenario = load_scenario(MMC, ["calendar.end=2025-01-08"])
    result = size(scenario, "gate", "desk", "mean_wait_hours<=0", 1.0, 2, seed=1, max_servers=4)
    assert result.servers is None
    assert result.evidence["servers"].max() == 4
    assert not result.evidence["meets_target"].any()


def test_fixed_servers_replace_dated_changes_and_the_note_says_so() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "torkham_2025_acc.yaml", [
        "populations.acc.persons=3000", "populations.undocumented.persons=3000",
        "calendar.end=2025-04-10"])  # fmt: skip
    result = size(scenario, "torkham", "reception", "p95_wait_hours<=24", 0.5, 2, seed=1)
    assert "replaces the dated changes (timeline.0 sets servers=14" in result.note


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p95_wait<=2", "cannot be sized"),
        ("p95_wait_hours<2", "expected OUTCOME<=VALUE"),
        ("p95_wait_hours<=-1", "finite number >= 0"),
        ("p95_wait_hours<=inf", "finite number >= 0"),
    ],
)
def test_bad_targets_are_one_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_target(text)
    assert "\n" not in str(info.value)
