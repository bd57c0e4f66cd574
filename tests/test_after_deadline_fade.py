"""The post-deadline hazard that fades: its excess over the usual hazard halves every
``after_deadline_half_life_days`` after the deadline in force (hand-computed arrays)."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import ScenarioError, parse_scenario
from simulation.scenario.calendar import voluntary_hazard
from tests.builders import POP

RAMP = (
    "calendar.end=2025-03-20",
    "populations.acc.deadline=2025-03-05",
    "populations.acc.voluntary={ramp: {base_per_day: 0.01, peak_per_day: 0.03, ramp_days: 2},"
    " after_deadline_per_day: 0.05, after_deadline_half_life_days: 2}",
)


def test_the_excess_over_the_ramp_base_halves_every_half_life() -> None:
    """Deadline day 4 (5 March). Ramp over days 3-4 (0.02, 0.03); from day 5 the hazard is
    0.01 + 0.04 * 0.5 ** ((day - 5) / 2): 0.05, 0.0383, 0.03, 0.0241, 0.02, ..."""
    s = parse_scenario(POP, "pop.yaml", RAMP)
    days = np.arange(s.days)
    after = 0.01 + 0.04 * 0.5 ** ((days - 5) / 2)
    by_hand = np.where(days >= 5, after, [0.01, 0.01, 0.01, 0.02, 0.03] + [0.0] * (s.days - 5))
    np.testing.assert_allclose(voluntary_hazard(s, "acc"), by_hand)
    assert voluntary_hazard(s, "acc")[7] == pytest.approx(0.03)  # one half-life: half the excess


def test_the_fade_restarts_from_an_extended_deadline() -> None:
    """Extended on day 2 to 10 March (day 9): the fade counts from day 10."""
    extension = "timeline=[{event: deadline_extension, date: 2025-03-03, group: acc," \
        " new_deadline: 2025-03-10}]"  # fmt: skip
    s = parse_scenario(POP, "pop.yaml", (*RAMP, extension))
    hazard = voluntary_hazard(s, "acc")
    assert hazard[9] == pytest.approx(0.03)  # the deadline day: the ramp's peak
    np.testing.assert_allclose(hazard[10:14], 0.01 + 0.04 * 0.5 ** (np.arange(4) / 2))


def test_without_a_half_life_the_hazard_stays_flat() -> None:
    flat = (*RAMP[:2], RAMP[2].replace(", after_deadline_half_life_days: 2", ""))
    hazard = voluntary_hazard(parse_scenario(POP, "pop.yaml", flat), "acc")
    np.testing.assert_allclose(hazard[5:], 0.05)


def test_a_half_life_without_a_post_deadline_hazard_is_one_line() -> None:
    bad = "populations.acc.voluntary={ramp: {base_per_day: 0.01, peak_per_day: 0.03," \
        " ramp_days: 2}, after_deadline_half_life_days: 2}"  # fmt: skip
    with pytest.raises(ScenarioError) as error:
        parse_scenario(POP, "pop.yaml", (bad,))
    message = str(error.value)
    assert "\n" not in message.strip()
    assert "after_deadline_half_life_days needs after_deadline_per_day" in message
