"""The scenario of a run's report: name, description, sources and the policy timeline as a dated
list, read from the folder's ``scenario.resolved.yaml``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from simulation.report.folder import Folder, ReportError, reason
from simulation.report.html import Html, el, join
from simulation.results import RESOLVED
from simulation.scenario import Scenario, ScenarioError, parse_scenario
from simulation.scenario.schema import (
    CampClosure,
    CapacityChange,
    ClosureEvent,
    CrackdownChange,
    DeadlineExtension,
    HazardChange,
    HoldingChange,
    NoAdverseAction,
    OpeningHoursChange,
    StatusExtension,
    TransportChange,
)

Dated = tuple[dt.date, str]


def _hours(open_hour: float, close_hour: float) -> str:
    return f"{open_hour:g}:00–{close_hour:g}:00"


def _closure(crossing: str, end: dt.date, why: str) -> str:
    return f"{crossing} closed through {end}" + (f" ({why})" if why else "")


def describe_event(event: Any) -> str:
    """One timeline event in words (its fields, for an event this function does not know)."""
    if isinstance(event, DeadlineExtension):
        return f"{event.group}: deadline extended to {event.new_deadline}"
    if isinstance(event, ClosureEvent):
        return _closure(event.crossing, event.end, event.reason)
    if isinstance(event, CapacityChange):
        return f"{event.crossing} / {event.stage}: {event.servers} servers"
    if isinstance(event, HazardChange):
        return f"{event.group}: voluntary return rate × {event.multiplier:g}"
    if isinstance(event, OpeningHoursChange):
        where = event.crossing + (f" / {event.stage}" if event.stage else "")
        return f"{where}: open {_hours(event.open_hour, event.close_hour)}"
    if isinstance(event, CrackdownChange):
        who = f" on {event.group}" if event.group else ""
        parts = []
        if event.arrest_rate_per_day is not None:
            parts.append(f"arrest rate {event.arrest_rate_per_day:g}/day")
        if event.arrest_capacity_persons_per_day is not None:
            parts.append(f"at most {event.arrest_capacity_persons_per_day:,} arrests/day")
        return f"crackdown{who}: " + (", ".join(parts) or "changed")
    words = _enforcement_words(event)
    if words is not None:
        return words
    fields = event.model_dump(exclude={"event", "date"}, exclude_none=True)
    listed = ", ".join(f"{k} {v}" for k, v in fields.items())
    return f"{getattr(event, 'event', 'event')}: {listed}"


def _enforcement_words(event: Any) -> str | None:
    """An enforcement or camp event in words (None for another kind)."""
    if isinstance(event, NoAdverseAction):
        return f"{event.group or 'all groups'}: no arrests through {event.end}"
    if isinstance(event, StatusExtension):
        return f"{event.group}: legal status extended to {event.new_lapse}"
    if isinstance(event, CampClosure):
        return (f"{event.group}: {event.share:.0%} of camp residents pushed out "
                f"({event.hazard_per_day:g}/day)")  # fmt: skip
    if isinstance(event, HoldingChange):
        return f"holding centres: {event.capacity_persons:,} persons"
    if isinstance(event, TransportChange):
        parts = []
        if event.departures_per_day is not None:
            parts.append(f"{event.departures_per_day} convoys a day per crossing")
        if event.vehicle_capacity_persons is not None:
            parts.append(f"{event.vehicle_capacity_persons} persons a vehicle")
        return "deportation transport: " + ", ".join(parts)
    return None


def policy_timeline(scenario: Scenario) -> list[Dated]:
    """Every dated rule of the scenario, in date order: calendar, deadlines and the crackdown
    after them, closures, server schedules and timeline events."""
    dated: list[Dated] = [(scenario.calendar.start, "simulation starts")]
    for group, population in scenario.populations.items():
        if population.deadline is not None:
            dated.append((population.deadline, f"{group}: deadline to leave Pakistan"))
            if scenario.crackdown is not None:
                after = population.deadline + dt.timedelta(days=1)
                dated.append((after, f"{group}: arrests and deportation may start"))
        lapse = population.status_lapses
        if lapse is not None and scenario.crackdown is not None:
            start = scenario.calendar.start
            text = "legal status lapses" if lapse >= start else f"legal status lapsed on {lapse}"
            dated.append((max(lapse, start), f"{group}: {text}"))
    for c in scenario.crackdown.campaigns if scenario.crackdown is not None else []:
        who = ", ".join(c.groups) if c.groups is not None else "every group"
        until = f" through {c.end}" if c.end is not None else ""
        dated.append((c.start, f"arrest campaign {c.name} on {who}{until}"))
    for name, crossing in scenario.crossings.items():
        dated += [(c.start, _closure(name, c.end, c.reason)) for c in crossing.closures]
        for stage_name, stage in crossing.stages.items():
            dated += [(step.start, f"{name} / {stage_name}: {step.servers} servers")
                      for step in stage.servers_schedule]  # fmt: skip
    dated += [(event.date, describe_event(event)) for event in scenario.timeline]
    dated.append((scenario.calendar.end, "simulation ends (last day)"))
    return sorted(dated, key=lambda item: item[0])


def timeline_list(dated: list[Dated]) -> Html:
    """The dated list."""
    items = (el("li", el("time", str(day), datetime=str(day)), text) for day, text in dated)
    return el("ol", join(items), class_="timeline")


def _facts(scenario: Scenario) -> Html:
    """Calendar, groups and crossings in one line each."""
    groups = ", ".join(f"{g} ({p.persons:,} persons)" for g, p in scenario.populations.items())
    crossings = "; ".join(f"{c}: {' → '.join(x.stages)}" for c, x in scenario.crossings.items())
    lines = [
        f"Calendar: {scenario.calendar.start} to {scenario.calendar.end} ({scenario.days} days)",
        f"Groups: {groups or 'direct demand only'}",
        f"Crossings and their stages: {crossings}",
    ]
    return el("ul", join(el("li", line) for line in lines))


def _sources(sources: list[Any]) -> Html:
    if not sources:
        return el("p", "No sources listed.", class_="note")
    return join([el("h3", "Sources"), el("ol", join(el("li", str(s)) for s in sources))])


def scenario_section(folder: Folder) -> Html | None:
    """Name, description, facts, sources and the policy timeline (None without the scenario)."""
    if not folder.has(RESOLVED):
        return None
    path = folder.path / RESOLVED
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: cannot be read ({reason(exc)})") from None
    try:
        scenario = parse_scenario(text, str(path))
    except ScenarioError as exc:
        return _unreadable(text, str(exc).splitlines()[0] if str(exc) else "invalid")
    return el(
        "section",
        el("h2", f"Scenario: {scenario.name}"),
        el("p", scenario.description or "(no description)"),
        _facts(scenario),
        el("h3", "Policy timeline"),
        timeline_list(policy_timeline(scenario)),
        _sources(list(scenario.sources)),
        id="scenario",
    )


def _unreadable(text: str, problem: str) -> Html:
    """What can be shown of a resolved scenario this version cannot validate."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        raw = None
    raw = raw if isinstance(raw, dict) else {}
    sources = raw.get("sources")
    return el(
        "section",
        el("h2", f"Scenario: {raw.get('name', '(unnamed)')}"),
        el("p", str(raw.get("description", ""))),
        el("p", f"The policy timeline is not shown: {problem}", class_="note"),
        _sources(sources if isinstance(sources, list) else []),
        id="scenario",
    )
