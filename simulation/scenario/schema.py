"""The scenario schema: frozen pydantic models, one per YAML section.

Field names carry their units (``rate_per_day``, ``travel_hours``, ``service_minutes``). Structural
and per-field rules live here; rules that relate several fields (shares summing to one, names that
must exist elsewhere, dates inside the calendar) live in :mod:`simulation.scenario.rules`.

Every number must be finite (no ``.inf``, ``.nan``, ``1e400``), and each kind of number has an
upper bound, far above any real scenario but low enough that what validates also runs: a year's
simulation stays finite and no count overflows. The bounds are the ``MAX_*`` constants below.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

PRIORITY_CLASSES = ("deported", "vulnerable")

MAX_COUNT = 10**9  # persons or households: in a group, a backlog, a capacity (per day)
MAX_SERVERS = 100_000  # desks or lanes of one stage
MAX_RATE_PER_DAY = 10**7  # arrivals per day, or a voluntary hazard per household per day
MAX_DURATION = 10**6  # a mean, sd or value of a duration, in its key's unit (minutes or hours)
MAX_WEIGHT = 10**9  # one weight of an empirical distribution or household size
MAX_HOUSEHOLD_PERSONS = 1000  # persons in one household
MAX_MULTIPLIER = 10**6  # a hazard multiplier
MAX_DAYS = 36_525  # 100 years: a calendar, a ramp
MAX_PROPENSITY_CV = 10.0  # coefficient of variation of a household's propensity to leave
HOURS_PER_DAY = 24  # entries of a within-day departure profile
MAX_REPLICATIONS = 100_000
MAX_SEED = 2**63 - 1
SD_PER_MEAN = (1e-6, 1e3)  # gamma and log-normal: sd between these multiples of the mean
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"  # a scenario name is a folder name
NAME_RULE = "a letter or digit, then up to 79 letters, digits, '.', '_' or '-'"


def checked_name(name: str, expected: str = NAME_RULE) -> str:
    """``name`` if it matches :data:`NAME_PATTERN`; else ValueError 'expected ``expected``'."""
    if re.fullmatch(NAME_PATTERN, name) is None:
        raise ValueError(f"expected {expected} (pattern {NAME_PATTERN})")
    return name


class Frozen(BaseModel):
    """Base: immutable, unknown keys are errors, numbers finite."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


Share = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
PosCount = Annotated[int, Field(ge=1, le=MAX_COUNT)]
Servers = Annotated[int, Field(ge=0, le=MAX_SERVERS)]
Rate = Annotated[float, Field(ge=0, le=MAX_RATE_PER_DAY)]
Duration = Annotated[float, Field(gt=0, le=MAX_DURATION)]
NonNegDuration = Annotated[float, Field(ge=0, le=MAX_DURATION)]
Weight = Annotated[float, Field(gt=0, le=MAX_WEIGHT)]
Persons = Annotated[int, Field(ge=1, le=MAX_HOUSEHOLD_PERSONS)]
Days = Annotated[int, Field(ge=1, le=MAX_DAYS)]


def _one_weight_per_value(weights: list[float] | None, info: ValidationInfo) -> list[float] | None:
    """Check that ``weights`` (if given) has as many entries as the ``values`` next to it."""
    values = info.data.get("values")
    if weights is not None and values is not None and len(weights) != len(values):
        raise ValueError(
            f"has {len(weights)} entries but values has {len(values)}; "
            "expected one weight per value"
        )
    return weights


def _sd_near_mean(sd: float, info: ValidationInfo) -> float:
    """Check that ``sd`` lies within :data:`SD_PER_MEAN` multiples of the ``mean`` next to it."""
    mean = info.data.get("mean")
    low, high = SD_PER_MEAN
    if mean is not None and not low * mean <= sd <= high * mean:
        raise ValueError(
            f"must be between {low:g} and {high:g} times the mean "
            f"(here {low * mean:g} to {high * mean:g}); the sampler cannot draw it"
        )
    return sd


# ---------------------------------------------------------------- distributions
class Exponential(Frozen):
    """Exponential with the given mean."""

    dist: Literal["exponential"]
    mean: Duration


class Gamma(Frozen):
    """Gamma parameterised by mean and standard deviation."""

    dist: Literal["gamma"]
    mean: Duration
    sd: Duration

    _sd_near_mean = field_validator("sd")(_sd_near_mean)


class LogNormal(Frozen):
    """Log-normal parameterised by the mean and standard deviation of the variable itself."""

    dist: Literal["lognormal"]
    mean: Duration
    sd: Duration

    _sd_near_mean = field_validator("sd")(_sd_near_mean)


class Fixed(Frozen):
    """A constant."""

    dist: Literal["fixed"]
    value: NonNegDuration


class Empirical(Frozen):
    """Resampling of observed values, optionally weighted."""

    dist: Literal["empirical"]
    values: Annotated[list[NonNegDuration], Field(min_length=1)]
    weights: list[Weight] | None = None

    _weights_match = field_validator("weights")(_one_weight_per_value)


Distribution = Annotated[
    Exponential | Gamma | LogNormal | Fixed | Empirical, Field(discriminator="dist")
]


class HouseholdSize(Frozen):
    """Persons per household: ``mean`` (1 + Poisson(mean - 1)) or ``values``/``weights``."""

    mean: Annotated[float, Field(ge=1, le=MAX_HOUSEHOLD_PERSONS)] | None = None
    values: Annotated[list[Persons], Field(min_length=1)] | None = None
    weights: list[Weight] | None = None
    max_persons: Persons = 30

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
    rate_per_day: Rate


class ServersStep(Frozen):
    """From this date on, the stage has ``servers`` desks or lanes."""

    start: dt.date = Field(alias="from")
    servers: Servers


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
    ramp_days: Days


class Voluntary(Frozen):
    """Daily hazard that a household returns of its own accord.

    ``propensity_cv``: each household's hazard is the group's times its own propensity, a
    gamma variable of mean 1 and this coefficient of variation (0: every household alike).
    ``hour_weights``: 24 weights of the hour (from 00:00) at which a household leaving on a day
    sets off (default: the time of day the continuous hazard gives).
    ``after_deadline_half_life_days``: the post-deadline hazard's excess over the usual one
    (the ramp's base, or the schedule's rate) halves every this many days after the deadline:
    the fear a crackdown's start spreads fades as enforcement becomes routine.
    """

    never_share: Share = 0.0
    schedule: list[RateStep] | None = None
    ramp: DeadlineRamp | None = None
    after_deadline_per_day: Share | None = None
    after_deadline_half_life_days: Annotated[float, Field(gt=0, le=MAX_DAYS)] | None = None
    propensity_cv: Annotated[float, Field(ge=0, le=MAX_PROPENSITY_CV)] = 0.0
    hour_weights: list[Annotated[float, Field(ge=0, le=MAX_WEIGHT)]] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Voluntary:
        if (self.schedule is None) == (self.ramp is None):
            given = "both are given" if self.schedule is not None else "neither is given"
            raise ValueError(
                "expected exactly one of schedule (dated steps) or ramp (before the deadline); "
                f"{given}"
            )
        if self.after_deadline_half_life_days is not None and self.after_deadline_per_day is None:
            raise ValueError(
                "after_deadline_half_life_days needs after_deadline_per_day (what decays)"
            )
        return self


class Camps(Frozen):
    """Households of a group living in camps, which ``camp_closure`` events may close."""

    share: Share


class Population(Frozen):
    """A legal-status group of Afghans in Pakistan."""

    persons: Count
    household_size: HouseholdSize
    regions: dict[str, Region]
    deadline: dt.date | None = None
    status_lapses: dt.date | None = None  # last day of legal stay; crackdown from the next
    voluntary: Voluntary
    vulnerable_share: Share = 0.0
    camps: Camps | None = None


# ---------------------------------------------------------------- crackdown
class Holding(Frozen):
    """Holding centres: capacity (persons) and minimum dwell before transport (hours)."""

    capacity_persons: PosCount
    dwell_hours: Distribution


class Transport(Frozen):
    """Deportation vehicles leaving the holding centres for each crossing."""

    vehicle_capacity_persons: PosCount
    departures_per_day: Annotated[int, Field(ge=0, le=96)]  # 0: none leave (holding fills)
    travel_hours: Distribution


class Campaign(Frozen):
    """A targeted arrest campaign: its own groups, regions, dates, rate and daily capacity,
    whatever the groups' deadlines."""

    name: str
    groups: list[str] | None = None  # default: every population group
    regions: list[str] | None = None  # default: every region
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(default=None, alias="to")  # default: the calendar end
    arrest_rate_per_day: Share
    arrest_capacity_persons_per_day: Count | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        return checked_name(name)


class Crackdown(Frozen):
    """Apprehension of households of a group still in Pakistan after its deadline (or once
    its status lapses), targeted campaigns, holding centres and deportation convoys."""

    arrest_rate_per_day: Share
    arrest_capacity_persons_per_day: Count | None = None
    arrest_hour: Annotated[float, Field(ge=0, lt=24)] = 9.0
    holding: Holding
    transport: Transport
    campaigns: list[Campaign] = []
    pause_when_closed: bool = False


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

    households: Count
    group: str
    household_size: HouseholdSize | None = None


# the pseudo-stage of the frames for a crossing whose first stage has a waiting limit: the
# road leading to it, where households wait until there is room (a stage may not take the name)
APPROACH = "approach"


class Stage(Frozen):
    """One processing stage of a crossing (desks, lanes, counters)."""

    servers: Servers
    servers_schedule: list[ServersStep] = []
    service_minutes: ServiceTime
    waiting_capacity_households: PosCount | None = None
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
    """Households reaching a crossing closed for longer than ``patience_hours``: a ``share``
    of them (each household drawn at random) wait that long and leave for crossing ``to``;
    the others wait in line until it reopens."""

    to: str
    patience_hours: Duration
    travel_hours: Distribution
    share: Share = 1.0


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
    servers: Servers


class HazardChange(Frozen):
    """From ``date`` on, the group's voluntary hazard is multiplied by ``multiplier``."""

    event: Literal["hazard_change"]
    date: dt.date
    group: str
    multiplier: Annotated[float, Field(ge=0, le=MAX_MULTIPLIER)]


class CampClosure(Frozen):
    """From ``date`` on, a further ``share`` of the group's camp residents is pushed out: each
    gets an added daily hazard ``hazard_per_day`` of leaving, which ``never_share`` does not
    shield and ``hazard_change`` does not scale."""

    event: Literal["camp_closure"]
    date: dt.date
    group: str
    share: Share
    hazard_per_day: Rate


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
    arrest_capacity_persons_per_day: Count | None = None


class StatusExtension(Frozen):
    """Announced on ``date``: the group's legal stay now lapses after ``new_lapse``."""

    event: Literal["status_extension"]
    date: dt.date
    group: str
    new_lapse: dt.date


class NoAdverseAction(Frozen):
    """No arrests (general or campaign) of the group (or every group) ``date``..``end``."""

    event: Literal["no_adverse_action"]
    date: dt.date
    end: dt.date
    group: str | None = None


class HoldingChange(Frozen):
    """From ``date`` on, the holding centres hold ``capacity_persons``."""

    event: Literal["holding_change"]
    date: dt.date
    capacity_persons: PosCount


class TransportChange(Frozen):
    """From ``date`` on, convoys leave ``departures_per_day`` times and/or carry
    ``vehicle_capacity_persons``."""

    event: Literal["transport_change"]
    date: dt.date
    departures_per_day: Annotated[int, Field(ge=0, le=96)] | None = None  # 0: none leave
    vehicle_capacity_persons: PosCount | None = None


TimelineEvent = Annotated[
    DeadlineExtension
    | ClosureEvent
    | CapacityChange
    | HazardChange
    | OpeningHoursChange
    | CrackdownChange
    | StatusExtension
    | NoAdverseAction
    | HoldingChange
    | TransportChange
    | CampClosure,
    Field(discriminator="event"),
]


# ---------------------------------------------------------------- top level
class Calendar(Frozen):
    """First and last simulated day (inclusive)."""

    start: dt.date
    end: dt.date


class RunSettings(Frozen):
    """Replications and master seed (both overridable from the command line)."""

    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 10
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 12345


class Scenario(Frozen):
    """A whole scenario: validated once, immutable, the only input of :func:`simulate`."""

    name: str
    description: str = ""
    sources: list[str] = []
    calendar: Calendar
    run: RunSettings = RunSettings()
    populations: dict[str, Population] = {}
    crackdown: Crackdown | None = None
    crossings: Annotated[dict[str, Crossing], Field(min_length=1)]
    demand: list[Demand] = []
    timeline: list[TimelineEvent] = []

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str) -> str:
        return checked_name(name, f"a name usable as a folder name: {NAME_RULE}")

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
