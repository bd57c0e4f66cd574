"""Cross-field rules of a scenario: each names the key path, the bad value, what is expected."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from simulation.scenario.schema import (
    APPROACH,
    HOURS_PER_DAY,
    MAX_DAYS,
    Campaign,
    CampClosure,
    CrackdownChange,
    Population,
    Scenario,
    TimelineEvent,
    Voluntary,
)
from simulation.scenario.suggest import did_you_mean

# Shares must sum to 1 within this tolerance. numpy's sampler needs about 1e-8, so the engine
# normalises the shares it draws with; the tolerance only forgives rounding in the file.
SHARE_TOLERANCE = 1e-6
MAX_LISTED = 50  # known names listed after "unknown crossing" and the like


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (key path), the offending value, what is expected."""

    path: tuple[str | int, ...]
    value: Any
    message: str


def _sums_to_one(path: tuple[str | int, ...], shares: Sequence[float]) -> Iterator[Problem]:
    total = sum(shares)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        yield Problem(path, round(total, 9), "shares must sum to 1")


def _ascending(path: tuple[str | int, ...], dates: Sequence[dt.date]) -> Iterator[Problem]:
    for i in range(1, len(dates)):
        if dates[i] <= dates[i - 1]:
            yield Problem(
                (*path, i, "from"),
                str(dates[i]),
                f"dates must be in increasing order; expected after {dates[i - 1]}",
            )


def _in_calendar(
    scenario: Scenario, path: tuple[str | int, ...], day: dt.date
) -> Iterator[Problem]:
    cal = scenario.calendar
    if not cal.start <= day <= cal.end:
        yield Problem(path, str(day), f"must lie within the calendar {cal.start}..{cal.end}")


def _not_before_start(
    scenario: Scenario, path: tuple[str | int, ...], day: dt.date
) -> Iterator[Problem]:
    """A dated event may fall after the calendar (it then has no effect), not before it."""
    if day < scenario.calendar.start:
        yield Problem(
            path, str(day), f"must not be before the calendar start {scenario.calendar.start}"
        )


def _check_calendar(s: Scenario) -> Iterator[Problem]:
    if s.calendar.end < s.calendar.start:
        yield Problem(
            ("calendar", "end"),
            str(s.calendar.end),
            f"must not be before calendar.start ({s.calendar.start})",
        )
    elif s.days > MAX_DAYS:
        yield Problem(
            ("calendar", "end"),
            str(s.calendar.end),
            f"the calendar spans {s.days} days; at most {MAX_DAYS} (100 years)",
        )


def _check_population(s: Scenario, name: str, pop: Population) -> Iterator[Problem]:
    base: tuple[str | int, ...] = ("populations", name)
    if pop.persons > 0 and not pop.regions:
        yield Problem((*base, "regions"), {}, "a group with persons needs at least one region")
    yield from _sums_to_one((*base, "regions"), [r.share for r in pop.regions.values()])
    for rname, region in pop.regions.items():
        rpath = (*base, "regions", rname, "crossings")
        yield from _sums_to_one(rpath, [c.share for c in region.crossings.values()])
        for cname in region.crossings:
            if cname not in s.crossings:
                yield Problem((*rpath, cname), cname, _unknown("crossing", cname, s.crossings))
    if pop.deadline is not None:
        yield from _in_calendar(s, (*base, "deadline"), pop.deadline)
    vol = pop.voluntary
    if vol.schedule is not None:
        yield from _ascending((*base, "voluntary", "schedule"), [st.start for st in vol.schedule])
    if vol.ramp is not None and pop.deadline is None:
        yield Problem(
            (*base, "voluntary", "ramp"),
            vol.ramp.model_dump(),
            f"a ramp rises to the deadline; expected populations.{name}.deadline or a schedule",
        )
    if vol.after_deadline_per_day is not None and pop.deadline is None:
        yield Problem(
            (*base, "voluntary", "after_deadline_per_day"),
            vol.after_deadline_per_day,
            f"applies after the deadline; expected populations.{name}.deadline",
        )
    yield from _check_hour_weights((*base, "voluntary", "hour_weights"), vol)
    # status_lapses may precede the calendar: the group's legal stay was already over
    if pop.persons > 0 and s.crackdown is not None and name in _arrestable(s):
        cap = _smallest_vehicle(s)
        size = pop.household_size
        if size.largest > cap:
            yield Problem(
                (*base, "household_size", "values" if size.values else "max_persons"),
                size.largest,
                f"largest household must fit a deportation vehicle ({cap} persons)",
            )


def _check_hour_weights(path: tuple[str | int, ...], vol: Voluntary) -> Iterator[Problem]:
    weights = vol.hour_weights
    if weights is None:
        return
    if len(weights) != HOURS_PER_DAY:
        yield Problem(
            path,
            weights,
            f"expected {HOURS_PER_DAY} weights (one per hour from 00:00), not {len(weights)}",
        )
    elif not any(w > 0 for w in weights):
        yield Problem(path, weights, "weights must not all be zero")


def _arrestable(s: Scenario) -> set[str]:
    """Groups that can be arrested: with a deadline or a lapsing status, or in a campaign."""
    groups = {
        g for g, p in s.populations.items() if p.deadline is not None or p.status_lapses is not None
    }
    for campaign in s.crackdown.campaigns if s.crackdown is not None else []:
        groups.update(s.populations if campaign.groups is None else campaign.groups)
    return groups


def _smallest_vehicle(s: Scenario) -> int:
    """The smallest deportation vehicle (persons) on any date."""
    assert s.crackdown is not None
    sizes = [s.crackdown.transport.vehicle_capacity_persons]
    sizes += [
        e.vehicle_capacity_persons
        for e in s.timeline
        if e.event == "transport_change" and e.vehicle_capacity_persons is not None
    ]
    return min(sizes)


def _unknown(kind: str, name: str, names: Iterable[str]) -> str:
    """'unknown KIND' with the closest known name, then the known names.

    Beyond :data:`MAX_LISTED` names there is no "did you mean" (it would cost time quadratic
    in the number of names when many references are wrong) and the list is cut short.
    """
    known = list(names)
    hint = f"{did_you_mean(name, known)} ".lstrip()
    listed = ", ".join(known[:MAX_LISTED]) or "(none)"
    if len(known) > MAX_LISTED:
        listed += f", ... ({len(known)} in all)"
    return f"unknown {kind}; {hint}expected one of: {listed}"


def _demanded_crossings(s: Scenario) -> set[str]:
    used = {d.crossing for d in s.demand}
    for pop in s.populations.values():
        if pop.persons > 0:
            for region in pop.regions.values():
                used.update(name for name, r in region.crossings.items() if r.share > 0)
    for cname, crossing in s.crossings.items():
        if crossing.divert is not None:
            used.add(crossing.divert.to)
        if any(st.initial_backlog is not None for st in crossing.stages.values()):
            used.add(cname)
    return used


def _check_crossings(s: Scenario) -> Iterator[Problem]:
    demanded = _demanded_crossings(s)
    for cname, crossing in s.crossings.items():
        base: tuple[str | int, ...] = ("crossings", cname)
        first_bounded = next(iter(crossing.stages.values())).waiting_capacity_households
        for sname, stage in crossing.stages.items():
            spath = (*base, "stages", sname)
            if cname in demanded and stage.servers < 1:
                yield Problem(
                    (*spath, "servers"), stage.servers, "a stage with demand needs servers >= 1"
                )
            steps = stage.servers_schedule
            yield from _ascending((*spath, "servers_schedule"), [st.start for st in steps])
            for j, step in enumerate(steps):
                yield from _in_calendar(s, (*spath, "servers_schedule", j, "from"), step.start)
            if sname == APPROACH and first_bounded is not None:
                yield Problem(
                    spath,
                    sname,
                    "names the road to a first stage with waiting_capacity_households; "
                    "rename the stage",
                )
            backlog = stage.initial_backlog
            if backlog is not None and backlog.group in s.populations:
                if backlog.household_size is not None:
                    yield Problem(
                        (*spath, "initial_backlog", "household_size"),
                        backlog.household_size.model_dump(exclude_unset=True),
                        f"must be left out: the backlog of population group '{backlog.group}' "
                        "uses the group's household sizes",
                    )
            elif backlog is not None and backlog.household_size is None:
                yield Problem(
                    (*spath, "initial_backlog", "household_size"),
                    None,
                    "a backlog outside the populations needs household_size",
                )
        for j, closure in enumerate(crossing.closures):
            if closure.end < closure.start:
                yield Problem(
                    (*base, "closures", j, "end"),
                    str(closure.end),
                    f"must not be before start ({closure.start})",
                )
            yield from _in_calendar(s, (*base, "closures", j, "start"), closure.start)
        if crossing.divert is not None:
            to = crossing.divert.to
            others = [name for name in s.crossings if name != cname]
            if to == cname:
                expected = f"expected one of: {', '.join(others) or '(none)'}"
                yield Problem((*base, "divert", "to"), to, f"must be another crossing; {expected}")
            elif to not in others:
                yield Problem((*base, "divert", "to"), to, _unknown("crossing", to, others))


def _check_demand(s: Scenario) -> Iterator[Problem]:
    for i, demand in enumerate(s.demand):
        if demand.crossing not in s.crossings:
            yield Problem(
                ("demand", i, "crossing"),
                demand.crossing,
                _unknown("crossing", demand.crossing, s.crossings),
            )
        if demand.group in s.populations:
            yield Problem(
                ("demand", i, "group"),
                demand.group,
                "direct demand needs its own label, not a population group",
            )
        yield from _ascending(("demand", i, "schedule"), [st.start for st in demand.schedule])


def _check_timeline(s: Scenario) -> Iterator[Problem]:
    for i, event in enumerate(s.timeline):
        path: tuple[str | int, ...] = ("timeline", i)
        yield from _not_before_start(s, (*path, "date"), event.date)
        group = getattr(event, "group", None)
        if group is not None and group not in s.populations:
            yield Problem((*path, "group"), group, _unknown("group", group, s.populations))
        crossing = getattr(event, "crossing", None)
        if crossing is not None and crossing not in s.crossings:
            yield Problem(
                (*path, "crossing"), crossing, _unknown("crossing", crossing, s.crossings)
            )
        stage = getattr(event, "stage", None)
        if stage is not None and crossing in s.crossings:
            stages = s.crossings[crossing].stages
            if stage not in stages:
                yield Problem((*path, "stage"), stage, _unknown("stage", stage, stages))
        if event.event == "crackdown_change":
            yield from _check_crackdown_change(s, path, event)
        if event.event == "deadline_extension":
            yield from _not_before_start(s, (*path, "new_deadline"), event.new_deadline)
            if group in s.populations and s.populations[group].deadline is None:
                yield Problem((*path, "group"), group, "the group has no deadline to extend")
        if event.event in ("closure", "no_adverse_action") and event.end < event.date:
            yield Problem((*path, "end"), str(event.end), f"must not be before date ({event.date})")
        yield from _check_enforcement_event(s, path, event)
    yield from _check_camp_closures(s)


def _check_camp_closures(s: Scenario) -> Iterator[Problem]:
    """A closure needs a group with camps; a group's closures close at most all its camps."""
    closed: dict[str, float] = {}
    listed = sorted((e.date, i, e) for i, e in enumerate(s.timeline) if isinstance(e, CampClosure))
    for _, i, event in listed:
        pop = s.populations.get(event.group)
        if pop is None:
            continue  # an unknown group is reported with the other timeline events
        if pop.camps is None:
            yield Problem(
                ("timeline", i, "group"),
                event.group,
                f"the group has no camps to close; expected populations.{event.group}.camps",
            )
            continue
        closed[event.group] = closed.get(event.group, 0.0) + event.share
        if closed[event.group] > 1.0 + SHARE_TOLERANCE:
            yield Problem(
                ("timeline", i, "share"),
                event.share,
                f"the camp_closure shares of group '{event.group}' sum to "
                f"{closed[event.group]:.6g} by this event; at most 1 (each closes a further "
                "share of the camps' residents)",
            )


def _check_enforcement_event(
    s: Scenario, path: tuple[str | int, ...], event: TimelineEvent
) -> Iterator[Problem]:
    """Rules of ``status_extension``, ``no_adverse_action``, ``holding_change`` and
    ``transport_change``."""
    kinds = ("status_extension", "no_adverse_action", "holding_change", "transport_change")
    if event.event not in kinds:
        return
    if s.crackdown is None and event.event != "status_extension":
        yield Problem((*path, "event"), event.event, "needs a crackdown section to change")
    if event.event == "status_extension":
        yield from _not_before_start(s, (*path, "new_lapse"), event.new_lapse)
        pop = s.populations.get(event.group)
        if pop is not None and pop.status_lapses is None:
            yield Problem(
                (*path, "group"),
                event.group,
                f"the group's status does not lapse; expected populations.{event.group}"
                ".status_lapses",
            )
    if (
        event.event == "transport_change"
        and event.departures_per_day is None
        and event.vehicle_capacity_persons is None
    ):
        yield Problem(path, "{}", "give departures_per_day and/or vehicle_capacity_persons")


def _check_crackdown_change(
    s: Scenario, path: tuple[str | int, ...], event: CrackdownChange
) -> Iterator[Problem]:
    if s.crackdown is None:
        yield Problem((*path, "event"), event.event, "needs a crackdown section to change")
    if event.arrest_rate_per_day is None and event.arrest_capacity_persons_per_day is None:
        yield Problem(path, "{}", "give arrest_rate_per_day and/or arrest_capacity_persons_per_day")
    if event.group is not None and event.arrest_capacity_persons_per_day is not None:
        yield Problem(
            (*path, "arrest_capacity_persons_per_day"),
            event.arrest_capacity_persons_per_day,
            "the arrest capacity is shared by all groups; give it without group",
        )


def _check_campaigns(s: Scenario) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, campaign in enumerate(s.crackdown.campaigns if s.crackdown is not None else []):
        path: tuple[str | int, ...] = ("crackdown", "campaigns", i)
        if campaign.name in seen:
            yield Problem((*path, "name"), campaign.name, "campaign names must be unique")
        seen.add(campaign.name)
        yield from _check_campaign(s, path, campaign)


def _check_campaign(
    s: Scenario, path: tuple[str | int, ...], campaign: Campaign
) -> Iterator[Problem]:
    for j, group in enumerate(campaign.groups or []):
        if group not in s.populations:
            yield Problem((*path, "groups", j), group, _unknown("group", group, s.populations))
    groups = [g for g in campaign.groups or s.populations if g in s.populations]
    known = list(dict.fromkeys(r for g in groups for r in s.populations[g].regions))
    for j, region in enumerate(campaign.regions or []):
        if region not in known:
            yield Problem((*path, "regions", j), region, _unknown("region", region, known))
    yield from _not_before_start(s, (*path, "from"), campaign.start)
    if campaign.end is not None and campaign.end < campaign.start:
        yield Problem(
            (*path, "to"), str(campaign.end), f"must not be before from ({campaign.start})"
        )


def check_scenario(scenario: Scenario) -> list[Problem]:
    """All cross-field problems of a structurally valid scenario (empty when it is sound)."""
    problems = list(_check_calendar(scenario))
    if problems:
        return problems
    for name, pop in scenario.populations.items():
        problems.extend(_check_population(scenario, name, pop))
    problems.extend(_check_crossings(scenario))
    problems.extend(_check_demand(scenario))
    problems.extend(_check_timeline(scenario))
    problems.extend(_check_campaigns(scenario))
    problems.extend(_needs_crackdown(scenario))
    return problems


_WHAT_NEEDS_CRACKDOWN = {"deadline": "a deadline", "status_lapses": "a lapsing status"}


def _needs_crackdown(s: Scenario) -> Iterator[Problem]:
    """A deadline or a lapsing status needs a crackdown section (the first one found)."""
    if s.crackdown is not None:
        return
    for name, pop in s.populations.items():
        for key in ("deadline", "status_lapses"):
            if getattr(pop, key) is not None:
                yield Problem(
                    ("populations", name, key),
                    str(getattr(pop, key)),
                    f"{_WHAT_NEEDS_CRACKDOWN[key]} needs a crackdown section "
                    "(apprehension, holding, transport)",
                )
                return
