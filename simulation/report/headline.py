"""The headline of a run's report, from its ``summary`` table: key figures with their 95%
intervals, then returns by group and mode, the peak day, waits, closures and overnight queues."""

from __future__ import annotations

import pandas as pd

from simulation.outputs.summary import ALL
from simulation.report.folder import Folder
from simulation.report.html import Html, el, interval, join, number, table


def where(row: pd.Series) -> str:
    """The non-empty breakdown keys of a summary row, e.g. ``torkham / pk_exit``."""
    keys = [str(row[k]) for k in ("crossing", "stage", "group", "mode") if str(row.get(k, ""))]
    return " / ".join(keys) or "total"


def estimate(row: pd.Series) -> str:
    """``mean (95% CI low–high)`` of a summary row."""
    return f"{number(row['mean'])} ({interval(row['ci_low'], row['ci_high'])})"


def rows_of(summary: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """The summary rows of ``outcome``."""
    return summary[summary["outcome"] == outcome]


def largest(summary: pd.DataFrame, outcome: str) -> pd.Series | None:
    """The row of ``outcome`` with the largest mean (None if the outcome is absent)."""
    rows = rows_of(summary, outcome).dropna(subset=["mean"])
    return None if rows.empty else rows.iloc[int(rows["mean"].to_numpy().argmax())]


def tile(label: str, row: pd.Series | None, unit: str, detail: str = "") -> Html:
    """One key figure: label, mean with unit, interval and where."""
    if row is None:
        return Html("")
    parts = [
        el("div", label, class_="label"),
        el("div", f"{number(row['mean'])} {unit}", class_="value"),
        el("div", interval(row["ci_low"], row["ci_high"]), class_="ci"),
        el("div", detail or where(row), class_="ci"),
    ]
    return el("div", *parts, class_="tile")


def busiest_date(folder: Folder) -> str:
    """The date with the most persons returning, on average over replications ('' if unknown)."""
    returns = folder.table("returns")
    if returns is None or returns.empty or "date" not in returns:
        return ""
    reps = max(int(returns["replication"].nunique()), 1)
    daily = returns.groupby("date")["persons"].sum() / reps
    return f"busiest day {str(daily.idxmax())[:10]}: {number(daily.max())} persons returned"


def key_figures(summary: pd.DataFrame, folder: Folder) -> Html:
    """The tiles: returns, peak day, worst wait, stranded by closures, queued overnight."""
    returns = rows_of(summary, "persons_returned")
    total = returns[(returns["group"] == ALL) & (returns["mode"] == ALL)]
    tiles = [
        tile("Persons returned", None if total.empty else total.iloc[0], "persons",
             "all groups and modes"),
        tile("Peak day at a crossing", largest(summary, "peak_daily_crossings"), "persons/day"),
        tile("Worst day's 95th-percentile wait", largest(summary, "worst_day_p95_wait_hours"),
             "hours"),
        tile("Stranded by closures", largest(summary, "persons_stranded_by_closures"), "persons"),
        tile("Queued overnight", largest(summary, "persons_queued_overnight"), "persons"),
    ]  # fmt: skip
    note = busiest_date(folder)
    return join([el("div", *tiles, class_="tiles"), el("p", note, class_="note") if note else ""])


def returns_table(summary: pd.DataFrame) -> Html:
    """Persons returned by group (rows) and mode (columns), totals included."""
    rows = rows_of(summary, "persons_returned")
    if rows.empty:
        return el("p", "No persons returned.")
    modes = [m for m in dict.fromkeys(rows["mode"]) if m != ALL] + [ALL]
    groups = [g for g in dict.fromkeys(rows["group"]) if g != ALL] + [ALL]
    cells = {(r["group"], r["mode"]): estimate(r) for _, r in rows.iterrows()}
    body = [[g, *(cells.get((g, m), "–") for m in modes)] for g in groups]
    header = ["group \\ mode", *modes]
    return join([el("h3", "Persons returned by group and mode"),
                 table(header, body, range(1, len(header)))])  # fmt: skip


def outcome_table(summary: pd.DataFrame, title: str, outcomes: dict[str, str]) -> Html:
    """One row per place (crossing or stage), one column per outcome (``name -> header``),
    largest first outcome first; places where every outcome is 0 in every replication are
    counted in a note instead."""
    rows = summary[summary["outcome"].isin(list(outcomes))]
    present = [name for name in outcomes if name in set(rows["outcome"])]
    if not present:
        return Html("")
    places: dict[str, dict[str, str]] = {}
    first: dict[str, float] = {}  # the first outcome's mean per place
    busy: set[str] = set()  # places with a value above 0 somewhere
    for _, row in rows.iterrows():
        place = where(row)
        places.setdefault(place, {})[row["outcome"]] = estimate(row)
        if row["outcome"] == present[0]:
            first[place] = float(row["mean"]) if pd.notna(row["mean"]) else -1.0
        if not (row["mean"] == 0 and not row["ci_high"] > 0):
            busy.add(place)
    order = sorted(busy, key=lambda place: -first.get(place, -1.0))
    body = [[place, *(places[place].get(name, "–") for name in present)] for place in order]
    header = ["where", *(outcomes[name] for name in present)]
    quiet = len(places) - len(busy)
    note = el("p", f"{quiet} more where every one of these is 0.", class_="note") if quiet else ""
    shown = table(header, body, range(1, len(header))) if body else ""
    return join([el("h3", title), shown, note])


def departures_table(summary: pd.DataFrame) -> Html:
    """When half and 90% of each group have left, as dates ('not reached' if never)."""
    rows = summary[summary["outcome"].isin(["days_to_50pct_left", "days_to_90pct_left"])]
    if rows.empty:
        return Html("")
    body = []
    for _, row in rows.iterrows():
        reached = int(row["n"]) if pd.notna(row["n"]) else 0
        date = str(pd.to_datetime(str(row.get("mean_date", "")), errors="coerce"))[:10]
        when = "not reached" if reached == 0 or date == "NaT" else date
        share = "half" if row["outcome"] == "days_to_50pct_left" else "90%"
        body.append([row["group"], share, when, estimate(row) if reached else "–", reached])
    header = ["group", "share left Pakistan", "by (mean date)", "days after start", "reached in"]
    return join([el("h3", "Departures"), table(header, body, (3, 4))])


STAGE_WAITS = {
    "worst_day_p95_wait_hours": "worst day's p95 wait (hours)",
    "p95_wait_hours": "p95 wait (hours)",
    "mean_wait_hours": "mean wait (hours)",
    "peak_queue_persons": "peak queue (persons)",
}
CROSSING = {
    "peak_daily_crossings": "peak day (persons/day)",
    "persons_stranded_by_closures": "stranded by closures (persons)",
    "p95_end_to_end_wait_hours": "p95 end-to-end wait (hours)",
}
OVERNIGHT = {
    "persons_queued_overnight": "queued overnight (persons)",
    "persons_unserved_at_end": "still waiting at the end (persons)",
}


def headline_section(folder: Folder) -> Html | None:
    """Key figures and tables of a run's summary (None for a folder without one)."""
    summary = folder.table("summary")
    if summary is None:
        return None
    runs = folder.manifest.get("replications")
    intro = f"Means over {runs} replications, each with its 95% confidence interval."
    if runs == 1:
        intro = "One replication: its values, without confidence intervals."
    return el(
        "section",
        el("h2", "Headline"),
        el("p", intro, class_="note"),
        key_figures(summary, folder),
        returns_table(summary),
        outcome_table(summary, "Crossings: peak day, closures, end-to-end waits", CROSSING),
        outcome_table(summary, "Waits and queues by stage", STAGE_WAITS),
        outcome_table(summary, "Overnight queues and persons left waiting", OVERNIGHT),
        departures_table(summary),
        id="headline",
    )
