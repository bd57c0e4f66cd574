"""Bad household mechanisms: each error is one line naming file, line, key and what is wrong."""

from __future__ import annotations

import pytest

from tests.test_validation import line_of, mutate, pinned, write

POR_CAMPS = mutate(
    "    voluntary:\n      schedule:",
    "    camps: {share: 0.2}\n    voluntary:\n      schedule:",
)
LAST_EVENT = "  - {event: hazard_change, date: 2025-01-05, group: por, multiplier: 2.0}\n"
ZEROS = ", ".join(["0"] * 24)


def with_events(*events: str, text: str = POR_CAMPS) -> str:
    """``text`` with timeline events appended (flow mappings)."""
    return mutate(LAST_EVENT, LAST_EVENT + "".join(f"  - {e}\n" for e in events), text)


def closure(group: str = "por", date: str = "2025-01-20", share: float = 0.5) -> str:
    """A camp_closure event (a YAML flow mapping) with hazard 0.05 per day."""
    fields = f"date: {date}, group: {group}, share: {share}, hazard_per_day: 0.05"
    return f"{{event: camp_closure, {fields}}}"


CASES = [
    (
        "closure_of_an_unknown_group",
        with_events(closure("prr")),
        "group: prr",
        "timeline.4.group",
        "unknown group; did you mean 'por'? expected one of: acc, por (got 'prr')",
    ),
    (
        "closure_of_a_group_without_camps",
        with_events(closure("acc")),
        "group: acc, share",
        "timeline.4.group",
        "the group has no camps to close; expected populations.acc.camps (got 'acc')",
    ),
    (
        "closure_shares_over_one",
        with_events(closure(date="2025-01-25", share=0.5), closure(share=0.6)),
        "2025-01-25, group: por",
        "timeline.4.share",
        "the camp_closure shares of group 'por' sum to 1.1 by this event; at most 1 (each "
        "closes a further share of the camps' residents) (got 0.5)",
    ),
    (
        "closure_before_the_calendar",
        with_events(closure(date="2024-12-20")),
        "date: 2024-12-20",
        "timeline.4.date",
        "must not be before the calendar start 2025-01-01 (got '2024-12-20')",
    ),
    (
        "hour_weights_not_24",
        mutate(
            "      never_share: 0.5\n", "      never_share: 0.5\n      hour_weights: [1, 2, 3]\n"
        ),
        "hour_weights",
        "populations.acc.voluntary.hour_weights",
        "expected 24 weights (one per hour from 00:00), not 3 (got [1.0, 2.0, 3.0])",
    ),
    (
        "hour_weights_all_zero",
        mutate(
            "      never_share: 0.5\n", f"      never_share: 0.5\n      hour_weights: [{ZEROS}]\n"
        ),
        "hour_weights",
        "populations.acc.voluntary.hour_weights",
        "weights must not all be zero (got [" + "0.0, " * 19 + "0...)",
    ),
    (
        "propensity_cv_too_large",
        mutate("      never_share: 0.5\n", "      never_share: 0.5\n      propensity_cv: 11\n"),
        "propensity_cv",
        "populations.acc.voluntary.propensity_cv",
        "must be <= 10 (got 11)",
    ),
    (
        "camps_share_over_one",
        mutate("camps: {share: 0.2}", "camps: {share: 1.2}", POR_CAMPS),
        "camps",
        "populations.por.camps.share",
        "must be <= 1 (got 1.2)",
    ),
]


@pytest.mark.parametrize(
    ("text", "marker", "key", "message"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_rule_message(tmp_path, text, marker, key, message):
    path = write(tmp_path, text)
    pinned(path, f"{path}:{line_of(text, marker)}: {key}: {message}")
