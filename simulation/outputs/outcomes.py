"""The outcomes registry: every outcome a run reports, with its unit, direction and keys.

In the spirit of EMA Workbench's ``ScalarOutcome(name, kind=MINIMIZE)``: one frozen record per
outcome. Only hardships of the journey (waiting, queueing, being stranded or left unserved) are
to be minimised; counts and timings of returns are ``info``, since whether more or faster returns
are better is a policy judgement the model does not make.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DAY_UNIT = "days after start"
BREAKDOWNS = ("crossing", "stage", "group", "mode")


class Direction(StrEnum):
    """Which way an outcome is better."""

    MINIMISE = "minimise"
    MAXIMISE = "maximise"
    INFO = "info"


@dataclass(frozen=True)
class Outcome:
    """One reported outcome; ``keys`` are the breakdowns (of BREAKDOWNS) it has a row for."""

    name: str
    unit: str
    direction: Direction
    keys: tuple[str, ...]
    description: str

    def __post_init__(self) -> None:
        unknown = set(self.keys) - set(BREAKDOWNS)
        if unknown:
            raise ValueError(f"{self.name}: keys {sorted(unknown)} not among {BREAKDOWNS}")


MIN, INFO = Direction.MINIMISE, Direction.INFO
STAGE = ("crossing", "stage")

OUTCOMES: tuple[Outcome, ...] = (
    Outcome("persons_returned", "persons", INFO, ("group", "mode"),
            "Persons completing a crossing within the calendar."),
    Outcome("peak_daily_crossings", "persons/day", INFO, ("crossing",),
            "Most persons completing the crossing in one day."),
    Outcome("peak_queue_persons", "persons", MIN, STAGE,
            "Most persons waiting at the stage at any one time."),
    Outcome("person_hours_queueing", "person-hours", MIN, STAGE,
            "Time-integral of persons waiting at the stage."),
    Outcome("mean_wait_hours", "hours", MIN, STAGE,
            "Mean wait of households starting service at the stage."),
    Outcome("p95_wait_hours", "hours", MIN, STAGE,
            "95th percentile wait of households starting service at the stage."),
    Outcome("worst_day_p95_wait_hours", "hours", MIN, STAGE,
            "Highest daily 95th percentile wait at the stage (days by service start)."),
    Outcome("mean_end_to_end_wait_hours", "hours", MIN, ("crossing",),
            "Mean hours a household spends at the crossing not being served (all stages)."),
    Outcome("p95_end_to_end_wait_hours", "hours", MIN, ("crossing",),
            "95th percentile of the same end-to-end wait, over households that crossed."),
    Outcome("persons_queued_overnight", "persons", MIN, STAGE,
            "Persons whose wait at the stage spans at least one midnight."),
    Outcome("persons_unserved_at_end", "persons", MIN, STAGE,
            "Persons still waiting at the stage when the calendar ends."),
    Outcome("persons_stranded_by_closures", "persons", MIN, ("crossing",),
            "Persons waiting at the crossing's first stage during a closure."),
    Outcome("persons_arrested", "persons", INFO, (),
            "Persons arrested within the calendar, all groups (general crackdown and campaigns)."),
    Outcome("days_to_50pct_left", DAY_UNIT, INFO, ("group",),
            "Day by whose end half of the group's persons have left Pakistan (NaN: never)."),
    Outcome("days_to_90pct_left", DAY_UNIT, INFO, ("group",),
            "Day by whose end 90% of the group's persons have left Pakistan (NaN: never)."),
)  # fmt: skip

BY_NAME: dict[str, Outcome] = {o.name: o for o in OUTCOMES}


def units() -> dict[str, str]:
    """Unit of each registered outcome, by name."""
    return {o.name: o.unit for o in OUTCOMES}


def directions() -> dict[str, str]:
    """Direction (``minimise``, ``maximise`` or ``info``) of each registered outcome, by name."""
    return {o.name: o.direction.value for o in OUTCOMES}
