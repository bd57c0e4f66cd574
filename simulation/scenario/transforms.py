"""Changes to a validated scenario made by the experiment layer (not by the user's file).

Each returns a new immutable :class:`Scenario`; the original is untouched.
"""

from __future__ import annotations

import math

from simulation.scenario.schema import CapacityChange, Scenario


def _stage_events(scenario: Scenario, crossing: str, stage: str) -> list[int]:
    """Indices of the timeline's capacity changes of one stage."""
    return [
        i
        for i, e in enumerate(scenario.timeline)
        if isinstance(e, CapacityChange) and e.crossing == crossing and e.stage == stage
    ]


def _replace_stage(scenario: Scenario, crossing: str, stage: str, **update: object) -> Scenario:
    spec = scenario.crossings[crossing]
    stages = {**spec.stages, stage: spec.stages[stage].model_copy(update=update)}
    crossings = {**scenario.crossings, crossing: spec.model_copy(update={"stages": stages})}
    return scenario.model_copy(update={"crossings": crossings})


def with_fixed_servers(scenario: Scenario, crossing: str, stage: str, servers: int) -> Scenario:
    """The stage has ``servers`` servers on every date: its ``servers_schedule`` and the
    timeline's capacity changes of that stage are dropped (opening hours and closures stay)."""
    out = _replace_stage(scenario, crossing, stage, servers=servers, servers_schedule=[])
    drop = set(_stage_events(scenario, crossing, stage))
    timeline = [e for i, e in enumerate(scenario.timeline) if i not in drop]
    return out.model_copy(update={"timeline": timeline})


def with_scaled_servers(scenario: Scenario, crossing: str, stage: str, servers: int) -> Scenario:
    """The stage's dated schedule kept and scaled so that its base is ``servers``: every dated
    value ``v`` becomes ``ceil(v * servers / base)`` (a scaled stage never has fewer servers
    than the proportion asks)."""
    spec = scenario.crossings[crossing].stages[stage]
    if spec.servers == 0:
        raise ValueError(f"{crossing}.{stage}: cannot scale a stage whose base servers are 0.")
    factor = servers / spec.servers

    def scaled(value: int) -> int:
        return math.ceil(value * factor - 1e-9)

    schedule = [s.model_copy(update={"servers": scaled(s.servers)}) for s in spec.servers_schedule]
    out = _replace_stage(scenario, crossing, stage, servers=servers, servers_schedule=schedule)
    events = set(_stage_events(scenario, crossing, stage))
    timeline = [
        e.model_copy(update={"servers": scaled(e.servers)})
        if i in events and isinstance(e, CapacityChange)
        else e
        for i, e in enumerate(scenario.timeline)
    ]
    return out.model_copy(update={"timeline": timeline})


def dated_server_changes(scenario: Scenario, crossing: str, stage: str) -> list[str]:
    """Where the stage's servers change by date, in words (for warnings and sizing notes)."""
    spec = scenario.crossings[crossing].stages[stage]
    where = [
        f"crossings.{crossing}.stages.{stage}.servers_schedule.{k} sets servers={s.servers} "
        f"from {s.start}"
        for k, s in enumerate(spec.servers_schedule)
    ]
    for i in _stage_events(scenario, crossing, stage):
        event = scenario.timeline[i]
        assert isinstance(event, CapacityChange)
        where.append(f"timeline.{i} sets servers={event.servers} from {event.date}")
    return where


def shadowing_events(scenario: Scenario, key: str) -> list[str]:
    """Dated settings that override, from their date on, the value at dotted ``key`` (a
    ``--set`` target): a user who sets it should know the value does not hold throughout."""
    parts = key.split(".")
    if len(parts) == 5 and parts[0] == "crossings" and parts[2::2] == ["stages", "servers"]:
        return dated_server_changes(scenario, parts[1], parts[3])
    where: list[str] = []
    for i, e in enumerate(scenario.timeline):
        if len(parts) == 3 and parts[0] == "populations" and parts[2] == "deadline":
            if e.event == "deadline_extension" and e.group == parts[1]:
                where.append(f"timeline.{i} moves the deadline to {e.new_deadline} from {e.date}")
        elif parts[:1] == ["crackdown"] and len(parts) == 2 and e.event == "crackdown_change":
            value = getattr(e, parts[1], None)
            if value is not None:
                whose = f" for {e.group}" if e.group else ""
                where.append(f"timeline.{i} sets {parts[1]}={value}{whose} from {e.date}")
        elif _dated_enforcement(parts, e.event):
            value = getattr(e, parts[-1], None)
            if value is not None:
                where.append(f"timeline.{i} sets {parts[-1]}={value} from {e.date}")
        elif parts[-1] == "opening_hours" and e.event == "opening_hours":
            stage = parts[3] if len(parts) == 5 else None
            if parts[1] == e.crossing and (e.stage is None or e.stage == stage):
                where.append(
                    f"timeline.{i} sets opening_hours={e.open_hour}-{e.close_hour} from {e.date}"
                )
    return where


def _dated_enforcement(parts: list[str], event: str) -> bool:
    """Whether ``event`` can override the holding or transport setting at ``parts``."""
    return (parts[:2] == ["crackdown", "holding"] and event == "holding_change") or (
        parts[:2] == ["crackdown", "transport"] and event == "transport_change"
    )
