"""Policy events on time axes: deadlines, arrests, closures, capacity and opening-hour changes.

The frames do not carry the scenario, so the events come as a small frame, built by
:func:`policy_events` from a validated scenario or by hand: columns ``date``, ``end`` (the day
after the last day of a span such as a closure, else NaT), ``kind``, ``label``, ``crossing`` and
``group`` ("" when the event concerns every crossing or group).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection

from simulation.plots.style import TITLE_Y
from simulation.scenario.calendar import closure_intervals, crackdown_days, deadline_by_day
from simulation.scenario.schema import (
    CampClosure,
    CapacityChange,
    CrackdownChange,
    DeadlineExtension,
    HazardChange,
    HoldingChange,
    NoAdverseAction,
    OpeningHoursChange,
    Scenario,
    StatusExtension,
    TransportChange,
)

EVENT_COLUMNS = ["date", "end", "kind", "label", "crossing", "group"]
# colour and line style of each kind of event; closures are shaded spans in their colour
EVENT_STYLES = {
    "deadline": ("#d62728", "--"),
    "deadline_extension": ("#d62728", ":"),
    "crackdown_start": ("#8b0000", "-"),
    "crackdown_change": ("#8b0000", ":"),
    "closure": ("#7f7f7f", "-"),
    "capacity_change": ("#2ca02c", "-."),
    "opening_hours": ("#9467bd", ":"),
    "hazard_change": ("#bcbd22", ":"),
    "campaign": ("#8b0000", "-."),
    "no_adverse_action": ("#1f77b4", "-"),
    "camp_closure": ("#ff7f0e", "--"),
    "status_extension": ("#d62728", ":"),
    "holding_change": ("#8c564b", ":"),
    "transport_change": ("#8c564b", "-."),
}
OTHER_STYLE = ("#555555", ":")
STRIP_FONT_PT = 7.5
CHAR_WIDTH_IN = 0.55 * STRIP_FONT_PT / 72  # a rough average character width


def policy_events(scenario: Scenario) -> pd.DataFrame:
    """The dated policy events of a scenario inside its calendar, one row each (see the module
    docstring): each group's deadline in force, announced extensions, the first day of arrests,
    closures as spans, capacity changes (server schedules and timeline events), arrest changes,
    opening-hour changes and voluntary-hazard changes."""
    rows = _deadline_rows(scenario) + _closure_rows(scenario) + _capacity_rows(scenario)
    rows += [_timeline_row(e) or _enforcement_row(e) for e in scenario.timeline]
    rows += _campaign_rows(scenario)
    frame = pd.DataFrame([r for r in rows if r is not None], columns=EVENT_COLUMNS)
    first, last = pd.Timestamp(scenario.calendar.start), pd.Timestamp(scenario.calendar.end)
    frame = frame[(frame["date"] >= first) & (frame["date"] <= last)]
    return _merge_groups(frame).sort_values(["date", "kind"], ignore_index=True)


def _row(day: Any, kind: str, label: str, crossing: str = "", group: str = "",
         end: Any = None) -> dict[str, Any]:  # fmt: skip
    end_ts = pd.NaT if end is None else pd.Timestamp(end)
    return {"date": pd.Timestamp(day), "end": end_ts, "kind": kind, "label": label,
            "crossing": crossing, "group": group}  # fmt: skip


def _deadline_rows(scenario: Scenario) -> list[dict[str, Any] | None]:
    """Each group's deadline on the day it falls (after extensions) and its first arrest day."""
    start = pd.Timestamp(scenario.calendar.start)
    rows: list[dict[str, Any] | None] = []
    for group, pop in scenario.populations.items():
        if pop.deadline is None:
            continue
        deadline = deadline_by_day(scenario, group)
        for day in np.flatnonzero(deadline == np.arange(scenario.days)):
            rows.append(_row(start + pd.Timedelta(days=int(day)), "deadline", "deadline",
                             group=group))  # fmt: skip
        arrests = crackdown_days(scenario, group)
        if scenario.crackdown is not None and arrests.any() and not arrests[0]:
            first = int(np.argmax(arrests))
            rows.append(_row(start + pd.Timedelta(days=first), "crackdown_start", "arrests begin",
                             group=group))  # fmt: skip
    return rows


def _closure_rows(scenario: Scenario) -> list[dict[str, Any] | None]:
    start = pd.Timestamp(scenario.calendar.start)
    rows: list[dict[str, Any] | None] = []
    for name in scenario.crossings:
        for lo, hi in closure_intervals(scenario, name):
            end = start + pd.Timedelta(hours=hi)
            rows.append(
                _row(start + pd.Timedelta(hours=lo), "closure", f"{name} closed", name, end=end)
            )
    return rows


def _capacity_rows(scenario: Scenario) -> list[dict[str, Any] | None]:
    return [
        _row(step.start, "capacity_change", f"{c} {s}: {step.servers} servers", c)
        for c, crossing in scenario.crossings.items()
        for s, stage in crossing.stages.items()
        for step in stage.servers_schedule
    ]


def _timeline_row(event: object) -> dict[str, Any] | None:
    """The row of one timeline event (closures are read with the crossings' closures)."""
    if isinstance(event, DeadlineExtension):
        moved = f"{event.new_deadline:%-d %b}"
        return _row(event.date, "deadline_extension", f"{event.group} deadline moved to {moved}",
                    group=event.group)  # fmt: skip
    if isinstance(event, CapacityChange):
        label = f"{event.crossing} {event.stage}: {event.servers} servers"
        return _row(event.date, "capacity_change", label, event.crossing)
    if isinstance(event, CrackdownChange):
        label = _crackdown_label(event)
        return _row(event.date, "crackdown_change", label, group=event.group or "")
    if isinstance(event, OpeningHoursChange):
        where = f"{event.crossing} {event.stage}" if event.stage else event.crossing
        hours = f"{event.open_hour:02g}-{event.close_hour:02g}h"
        return _row(event.date, "opening_hours", f"{where} open {hours}", event.crossing)
    if isinstance(event, HazardChange):
        label = f"{event.group} voluntary x{event.multiplier:g}"
        return _row(event.date, "hazard_change", label, group=event.group)
    return None


def _enforcement_row(event: object) -> dict[str, Any] | None:
    """The row of an enforcement or camp event (spans for a no-adverse-action period)."""
    if isinstance(event, NoAdverseAction):
        who = event.group or "all groups"
        return _row(event.date, "no_adverse_action", f"no arrests of {who}", group=event.group
                    or "", end=event.end + pd.Timedelta(days=1))  # fmt: skip
    if isinstance(event, CampClosure):
        label = f"{event.group} camps closing ({event.share:.0%} of residents)"
        return _row(event.date, "camp_closure", label, group=event.group)
    if isinstance(event, StatusExtension):
        label = f"{event.group} status extended to {event.new_lapse:%-d %b}"
        return _row(event.date, "status_extension", label, group=event.group)
    if isinstance(event, HoldingChange):
        return _row(event.date, "holding_change", f"holding {event.capacity_persons:,} persons")
    if isinstance(event, TransportChange):
        label = "convoys " + ", ".join(
            f"{v:,} {k}" for k, v in (("a day", event.departures_per_day),
                                        ("persons a vehicle", event.vehicle_capacity_persons))
            if v is not None)  # fmt: skip
        return _row(event.date, "transport_change", label)
    return None


def _campaign_rows(scenario: Scenario) -> list[dict[str, Any] | None]:
    """Targeted arrest campaigns as spans from their first to the day after their last day."""
    if scenario.crackdown is None:
        return []
    rows: list[dict[str, Any] | None] = []
    for c in scenario.crackdown.campaigns:
        who = ", ".join(c.groups) if c.groups is not None else "all groups"
        end = (c.end or scenario.calendar.end) + pd.Timedelta(days=1)
        rows.append(_row(c.start, "campaign", f"campaign {c.name} ({who})", group=who, end=end))
    return rows


def _crackdown_label(event: CrackdownChange) -> str:
    parts = []
    if event.arrest_rate_per_day is not None:
        parts.append(f"arrest rate {100 * event.arrest_rate_per_day:.2g}%/day")
    if event.arrest_capacity_persons_per_day is not None:
        parts.append(f"arrest capacity {event.arrest_capacity_persons_per_day:,}/day")
    who = f" ({event.group})" if event.group else ""
    return ", ".join(parts) + who


def _merge_groups(frame: pd.DataFrame) -> pd.DataFrame:
    """One deadline (or first arrest day) row per date, naming every group it applies to."""
    merge = frame["kind"].isin(["deadline", "crackdown_start"])
    if not merge.any():
        return frame
    merged = (
        frame[merge]
        .groupby(["date", "kind", "label"], as_index=False, sort=False)
        .agg(group=("group", ", ".join), crossing=("crossing", "first"), end=("end", "first"))
    )
    merged["label"] = merged["label"] + ": " + merged["group"]
    return pd.concat([frame[~merge], merged[EVENT_COLUMNS]], ignore_index=True)


def as_events(events: pd.DataFrame | Iterable[Sequence[Any]] | Scenario | None) -> pd.DataFrame:
    """Events as a frame with :data:`EVENT_COLUMNS`, from a frame (``date``, ``label`` and
    ``kind`` required), (date, label, kind[, end]) tuples or a scenario (its
    :func:`policy_events`); None gives no events."""
    if events is None:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    if isinstance(events, Scenario):
        return policy_events(events)
    if not isinstance(events, pd.DataFrame):
        rows = [(*e, None)[:4] for e in events]  # (date, label, kind, end or None)
        events = pd.DataFrame(rows, columns=["date", "label", "kind", "end"])
    missing = {"date", "label", "kind"} - set(events.columns)
    if missing:
        raise ValueError(f"events need columns date, label and kind; missing {sorted(missing)}")
    out = events.copy()
    for column in ("crossing", "group"):
        out[column] = out[column].fillna("").astype(str) if column in out else ""
    out["date"] = pd.to_datetime(out["date"])
    out["end"] = pd.to_datetime(out["end"]) if "end" in out else pd.NaT
    return out[EVENT_COLUMNS].sort_values("date", ignore_index=True)


def style(kind: str) -> tuple[str, str]:
    """(colour, line style) of an event kind."""
    return EVENT_STYLES.get(kind, OTHER_STYLE)


def for_crossing(events: pd.DataFrame, crossing: str | None) -> pd.DataFrame:
    """The events that concern ``crossing`` (those of every crossing, and its own)."""
    return events if crossing is None else for_crossings(events, [crossing])


def for_crossings(events: pd.DataFrame, crossings: Sequence[str]) -> pd.DataFrame:
    """The events that concern any of ``crossings`` (those of every crossing, and theirs)."""
    if events.empty:
        return events
    return events[events["crossing"].isin(["", *crossings])]


@dataclass(frozen=True)
class Mark:
    """One event to draw: its first day, the day after its last (spans only), kind and label,
    and both days as matplotlib date numbers."""

    date: pd.Timestamp
    end: pd.Timestamp | None
    kind: str
    label: str

    @property
    def x(self) -> float:
        return float(mdates.date2num(self.date))

    @property
    def x_end(self) -> float:
        return float(mdates.date2num(self.end if self.end is not None else self.date))

    @property
    def text(self) -> str:
        """The date (first and last day of a span) and label."""
        if self.end is not None and self.end - self.date > pd.Timedelta(days=1):
            last = self.end - pd.Timedelta(days=1)
            first = f"{self.date:%-d}" if self.date.month == last.month else f"{self.date:%-d %b}"
            return f"{first}-{last:%-d %b} {self.label}"
        return f"{self.date:%-d %b} {self.label}"


def marks(events: pd.DataFrame) -> list[Mark]:
    """The rows of an events frame (from :func:`as_events`) as marks."""
    columns = [events[c].tolist() for c in ("date", "end", "kind", "label")]
    return [
        Mark(pd.Timestamp(d), None if pd.isna(e) else pd.Timestamp(e), str(k), str(lab))
        for d, e, k, lab in zip(*columns, strict=True)
    ]


def draw_events(ax: Axes, events: pd.DataFrame) -> None:
    """Thin vertical lines at dated events and shaded spans for closures, each kind in its
    style: one collection of lines and one of spans (gid "event"), not an artist per event."""
    lines: list[Mark] = []
    spans: list[Mark] = []
    for mark in marks(events):
        (spans if mark.end is not None else lines).append(mark)
    where = ax.get_xaxis_transform()  # x in days, y from the bottom (0) to the top (1)
    if spans:
        boxes = [[(m.x, 0), (m.x_end, 0), (m.x_end, 1), (m.x, 1)] for m in spans]
        ax.add_collection(PolyCollection(boxes, facecolors=[style(m.kind)[0] for m in spans],
                                         alpha=0.13, lw=0, zorder=0, gid="event",
                                         transform=where), autolim=False)  # fmt: skip
    if lines:
        segments = [[(m.x, 0), (m.x, 1)] for m in lines]
        ax.add_collection(LineCollection(segments, colors=[style(m.kind)[0] for m in lines],
                                         linestyles=[style(m.kind)[1] for m in lines],
                                         lw=0.9, alpha=0.9, zorder=1, gid="event",
                                         transform=where), autolim=False)  # fmt: skip


def strip_rows(
    events: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp, width_in: float
) -> list[int]:
    """The row of each event's label in the event strip, so that no two labels overlap: labels
    run right from their date (left, if they would run past ``last``), and each goes to the
    highest row free there. Rows count from 0; a label that runs left has a negative row - 1."""
    days_per_inch = max((last - first).days, 1) / max(width_in, 1.0)
    lo, hi = float(mdates.date2num(first)), float(mdates.date2num(last))
    taken: list[list[tuple[float, float]]] = []
    rows = []
    for mark in marks(events):
        text_days = (len(mark.text) + 2) * CHAR_WIDTH_IN * days_per_inch
        start = max(mark.x, lo)
        leftward = start + text_days > hi and start - text_days >= lo
        begin, stop = (start - text_days, start) if leftward else (start, start + text_days)
        stop = max(stop, mark.x_end)
        free = next(
            (i for i, row in enumerate(taken) if all(stop < a or begin > b for a, b in row)),
            len(taken),
        )
        if free == len(taken):
            taken.append([])
        taken[free].append((begin, stop))
        rows.append(-free - 1 if leftward else free)
    return rows


def strip_level(row: int) -> int:
    """The row of a label from :func:`strip_rows` (whichever way it runs)."""
    return row if row >= 0 else -row - 1


def draw_strip(
    ax: Axes, events: pd.DataFrame, rows: Sequence[int], levels: int, title: str | None = ""
) -> None:
    """The event strip over a figure's panels: each event's date and label on its row, after a
    tick in the event's style (closures as bars over their span), headed "policy events
    (title)" (no heading if ``title`` is None)."""
    for mark, row in zip(marks(events), rows, strict=True):
        level, leftward = strip_level(row), row < 0
        colour, line = style(mark.kind)
        if mark.end is not None:
            ax.fill_between([mark.x, mark.x_end], level + 0.1, level + 0.9, color=colour,
                            alpha=0.25, lw=0, gid="event")  # fmt: skip
        else:
            ax.plot([mark.x, mark.x], [level + 0.1, level + 0.9], color=colour, ls=line,
                    lw=1.2, gid="event")  # fmt: skip
        ink = "#444444" if mark.end is not None else colour
        text = f"{mark.text} " if leftward else f" {mark.text}"
        ax.text(mark.x, level + 0.5, text, va="center", ha="right" if leftward else "left",
                fontsize=STRIP_FONT_PT, color=ink, gid="event", clip_on=True)  # fmt: skip
    ax.set_gid("events")
    ax.set_ylim(levels, 0)
    ax.set_yticks([])
    ax.tick_params(labelbottom=False, bottom=False)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if title is not None:
        heading = f"policy events ({title})" if title else "policy events"
        ax.set_title(heading, loc="left", fontsize="small", color="#444444", y=TITLE_Y)
