"""The scenario schema: frozen pydantic models, one per YAML section.

Field names carry their units (``rate_per_day``, ``travel_hours``, ``service_minutes``). Structural
and per-field rules live here; rules that relate several fields (shares summing to one, names that
must exist elsewhere, dates inside the calendar) live in :mod:`simulation.scenario.rules`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

PRIORITY_CLASSES = ("deported", "vulnerable")


class Frozen(BaseModel):
    """Base: immutable, unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]


def _one_weight_per_value(weights: list[float] | None, info: ValidationInfo) -> list[float] | None:
    """Check that ``weights`` (if given) has as many entries as the ``values`` next to it."""
    values = info.data.get("values")
    if weights is not None and values is not None and len(weights) != len(values):
        raise ValueError(
            f"has {len(weights)} entries but values has {len(values)}; "
            "expected one weight per value"
        )
    return weights


# ---------------------------------------------------------------- distributions
class Exponential(Frozen):
    """Exponential with the given mean."""

    dist: Literal["exponential"]
    mean: Pos


class Gamma(Frozen):
    """Gamma parameterised by mean and standard deviation."""

    dist: Literal["gamma"]
    mean: Pos
    sd: Pos


class LogNormal(Frozen):
    """Log-normal parameterised by the mean and standard deviation of the variable itself."""

    dist: Literal["lognormal"]
    mean: Pos
    sd: Pos


class Fixed(Frozen):
    """A constant."""

    dist: Literal["fixed"]
    value: NonNeg


class Empirical(Frozen):
    """Resampling of observed values, optionally weighted."""

    dist: Literal["empirical"]
    values: Annotated[list[NonNeg], Field(min_length=1)]
    weights: list[Pos] | None = None

    _weights_match = field_validator("weights")(_one_weight_per_value)


Distribution = Annotated[
    Exponential | Gamma | LogNormal | Fixed | Empirical, Field(discriminator="dist")
]


class HouseholdSize(Frozen):
    """Persons per household: ``mean`` (1 + Poisson(mean - 1)) or ``values``/``weights``."""

    mean: Annotated[float, Field(ge=1)] | None = None
    values: list[Annotated[int, Field(ge=1)]] | None = None
    weights: list[Pos] | None = None
    max_persons: Annotated[int, Field(ge=1)] = 30

    _weights_match = field_validator("weights")(_one_weight_per_value)

    @model_validator(mode="after")
    def _one_form(self) -> HouseholdSize:
        if (self.mean is None) == (self.values is None):
            given = "both are given" if self.mean is not None else "neither is given"
            raise ValueError(f"expected either mean or values (with optional weights); {given}")
        return self

    @property
    def largest(self) -> int:
        """The largest household size this distribution can produce."""
        return max(self.values) if self.values is not None else self.max_persons


# ---------------------------------------------------------------- schedules
class RateStep(Frozen):
    """From this date on, the rate is ``rate_per_day``."""

    start: dt.date = Field(alias="from")
    rate_per_day: NonNeg


class ServersStep(Frozen):
    """From this date on, the stage has ``servers`` desks or lanes."""

    start: dt.date = Field(alias="from")
    servers: Annotated[int, Field(ge=0)]


# ---------------------------------------------------------------- populations
class Route(Frozen):
    """Share of a region's households using a crossing, and their travel time (hours)."""

    share: Share
    travel_hours: Distribution


class Region(Frozen):
    """A region of residence."""

    share: Share
    crossings: Annotated[dict[str, Route], Field(min_length=1)]


class DeadlineRamp(Frozen):
    """Voluntary hazard rising linearly from ``base`` to ``peak`` over the last ``ramp_days``."""

    base_per_day: Share
    peak_per_day: Share
    ramp_days: Annotated[int, Field(ge=1)]


class Voluntary(Frozen):
    """Daily hazard that a household returns of its own accord."""

    never_share: Share = 0.0
    schedule: list[RateStep] | None = None
    ramp: DeadlineRamp | None = None
    after_deadline_per_day: Share | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Voluntary:
        if (self.schedule is None) == (self.ramp is None):
            given = "both are given" if self.schedule is not None else "neither is given"
            raise ValueError(
                "expected exactly one of schedule (dated steps) or ramp (before the deadline); "
                f"{given}"
            )
        return self


class Population(Frozen):
    """A legal-status group of Afghans in Pakistan."""

    persons: Annotated[int, Field(ge=0)]
    household_size: HouseholdSize
    regions: dict[str, Region]
    deadline: dt.date | None = None
    voluntary: Voluntary
    vulnerable_share: Share = 0.0


# ---------------------------------------------------------------- crackdown
class Holding(Frozen):
    """Holding centres: capacity (persons) and minimum dwell before transport (hours)."""

    capacity_persons: Annotated[int, Field(ge=1)]
    dwell_hours: Distribution


class Transport(Frozen):
    """Deportation vehicles leaving the holding centres for each crossing."""

    vehicle_capacity_persons: Annotated[int, Field(ge=1)]
    departures_per_day: Annotated[int, Field(ge=1, le=96)]
    travel_hours: Distribution


class Crackdown(Frozen):
    """Apprehension of households of a group still in Pakistan after its deadline."""

    arrest_rate_per_day: Share
    arrest_capacity_persons_per_day: Annotated[int, Field(ge=0)] | None = None
    arrest_hour: Annotated[float, Field(ge=0, lt=24)] = 9.0
    holding: Holding
    transport: Transport


# ---------------------------------------------------------------- crossings
class OpeningHours(Frozen):
    """Daily opening window [open_hour, close_hour) in local hours."""

    open_hour: Annotated[float, Field(ge=0, lt=24)]
    close_hour: Annotated[float, Field(gt=0, le=24)]

    @field_validator("close_hour")
    @classmethod
    def _ordered(cls, close_hour: float, info: ValidationInfo) -> float:
        open_hour = info.data.get("open_hour")
        if open_hour is not None and close_hour <= open_hour:
            raise ValueError(f"must be after open_hour ({open_hour:g})")
        return close_hour


class ServiceTime(Frozen):
    """Service time in minutes: per household plus the sum of one draw per person."""

    per_household: Distribution | None = None
    per_person: Distribution | None = None

    @model_validator(mode="after")
    def _some(self) -> ServiceTime:
        if self.per_household is None and self.per_person is None:
            raise ValueError("expected per_household and/or per_person; neither is given")
        return self


class Backlog(Frozen):
    """Households already waiting at a stage when the simulation starts."""

    households: Annotated[int, Field(ge=0)]
    group: str
    household_size: HouseholdSize | None = None


class Stage(Frozen):
    """One processing stage of a crossing (desks, lanes, counters)."""

    servers: Annotated[int, Field(ge=0)]
    servers_schedule: list[ServersStep] = []
    service_minutes: ServiceTime
    waiting_capacity_households: Annotated[int, Field(ge=1)] | None = None
    opening_hours: OpeningHours | None = None
    priority: list[Literal["deported", "vulnerable"]] = []
    initial_backlog: Backlog | None = None

    @field_validator("priority")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("priority lists a class twice")
        return value


class Closure(Frozen):
    """The crossing is shut from ``start`` to ``end`` (both inclusive, whole days)."""

    start: dt.date
    end: dt.date
    reason: str = ""


class Divert(Frozen):
    """Households waiting at a closed crossing leave for another after ``patience_hours``."""

    to: str
    patience_hours: Pos
    travel_hours: Distribution


class Crossing(Frozen):
    """A border crossing: ordered stages, opening hours, closures."""

    opening_hours: OpeningHours | None = None
    stages: Annotated[dict[str, Stage], Field(min_length=1)]
    closures: list[Closure] = []
    divert: Divert | None = None


class Demand(Frozen):
    """Poisson arrivals straight to a crossing, from a dated rate schedule."""

    crossing: str
    group: str = "direct"
    unit: Literal["households", "persons"] = "households"
    household_size: HouseholdSize = HouseholdSize(values=[1])
    schedule: Annotated[list[RateStep], Field(min_length=1)]
    arrival_hours: OpeningHours | None = None
    vulnerable_share: Share = 0.0


# ---------------------------------------------------------------- timeline
class DeadlineExtension(Frozen):
    """Announced on ``date``: the group's deadline becomes ``new_deadline``."""

    event: Literal["deadline_extension"]
    date: dt.date
    group: str
    new_deadline: dt.date


class ClosureEvent(Frozen):
    """The crossing closes from ``date`` to ``end`` inclusive."""

    event: Literal["closure"]
    date: dt.date
    crossing: str
    end: dt.date
    reason: str = ""


class CapacityChange(Frozen):
    """From ``date`` on, the stage has ``servers`` servers."""

    event: Literal["capacity_change"]
    date: dt.date
    crossing: str
    stage: str
    servers: Annotated[int, Field(ge=0)]


class HazardChange(Frozen):
    """From ``date`` on, the group's voluntary hazard is multiplied by ``multiplier``."""

    event: Literal["hazard_change"]
    date: dt.date
    group: str
    multiplier: NonNeg


class OpeningHoursChange(OpeningHours):
    """From ``date`` on, the crossing (or one stage of it) opens ``open_hour``-``close_hour``."""

    event: Literal["opening_hours"]
    date: dt.date
    crossing: str
    stage: str | None = None


class CrackdownChange(Frozen):
    """From ``date`` on, a new arrest rate (for one group, or all) and/or daily arrest capacity."""

    event: Literal["crackdown_change"]
    date: dt.date
    group: str | None = None
    arrest_rate_per_day: Share | None = None
    arrest_capacity_persons_per_day: Annotated[int, Field(ge=0)] | None = None


TimelineEvent = Annotated[
    DeadlineExtension
    | ClosureEvent
    | CapacityChange
    | HazardChange
    | OpeningHoursChange
    | CrackdownChange,
    Field(discriminator="event"),
]


# ---------------------------------------------------------------- top level
class Calendar(Frozen):
    """First and last simulated day (inclusive)."""

    start: dt.date
    end: dt.date


class RunSettings(Frozen):
    """Replications and master seed (both overridable from the command line)."""

    replications: Annotated[int, Field(ge=1)] = 10
    seed: Annotated[int, Field(ge=0)] = 12345


class Scenario(Frozen):
    """A whole scenario: validated once, immutable, the only input of :func:`simulate`."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    description: str = ""
    sources: list[str] = []
    calendar: Calendar
    run: RunSettings = RunSettings()
    populations: dict[str, Population] = {}
    crackdown: Crackdown | None = None
    crossings: Annotated[dict[str, Crossing], Field(min_length=1)]
    demand: list[Demand] = []
    timeline: list[TimelineEvent] = []

    @property
    def days(self) -> int:
        """Number of simulated days."""
        return (self.calendar.end - self.calendar.start).days + 1

    @property
    def horizon_hours(self) -> float:
        """Length of the simulated period in hours."""
        return 24.0 * self.days

    def hours_since_start(self, day: dt.date) -> float:
        """Hours from the calendar start (00:00) to the start of ``day``."""
        return 24.0 * (day - self.calendar.start).days

    @property
    def group_names(self) -> list[str]:
        """Population groups, then direct-demand and backlog labels, in a fixed order."""
        names = list(self.populations)
        for label in [d.group for d in self.demand] + [
            s.initial_backlog.group
            for c in self.crossings.values()
            for s in c.stages.values()
            if s.initial_backlog is not None
        ]:
            if label not in names:
                names.append(label)
        return names
