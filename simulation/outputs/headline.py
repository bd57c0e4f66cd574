"""The headline of a run: the dozen numbers an analyst reads first, each a row of the summary.

Returns by group and in total, deportations, the peak day at each crossing, the worst waits,
persons stranded by closures and queued overnight. Every number is a row of ``summary`` with its
95% interval (nothing is recomputed), so the terminal, the report and ``summary.csv`` agree.
"""

from __future__ import annotations

import pandas as pd

from simulation.outputs.summary import ALL

HEADLINE_COLUMNS = ["label", "mean", "ci_low", "ci_high", "unit", "outcome", "crossing",
                    "stage", "group", "mode"]  # fmt: skip


def _pick(summary: pd.DataFrame, outcome: str, **keys: str) -> pd.DataFrame:
    mask = summary["outcome"] == outcome
    for key, value in keys.items():
        mask &= summary[key] == value
    return summary[mask]


def _largest(summary: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """The row of ``outcome`` with the largest mean (the worst stage or crossing)."""
    rows = _pick(summary, outcome)
    if not len(rows) or not rows["mean"].max() > 0:
        return rows.iloc[:0]
    return rows.loc[[rows["mean"].idxmax()]]


def _where(row: pd.Series) -> str:
    return "/".join(str(row[k]) for k in ("crossing", "stage") if row[k])


def headline(summary: pd.DataFrame) -> pd.DataFrame:
    """At most about 15 rows of ``summary``, labelled in words, in reading order."""
    parts: list[tuple[str, pd.DataFrame]] = [
        ("returned, all groups", _pick(summary, "persons_returned", group=ALL, mode=ALL)),
    ]
    groups = _pick(summary, "persons_returned", mode=ALL)
    for group in groups[groups["group"] != ALL]["group"]:
        parts.append((f"returned, {group}", _pick(groups, "persons_returned", group=group)))
    parts.append(("deported, all groups",
                  _pick(summary, "persons_returned", group=ALL, mode="deported")))  # fmt: skip
    for crossing in _pick(summary, "peak_daily_crossings")["crossing"]:
        parts.append((f"peak day at {crossing}",
                      _pick(summary, "peak_daily_crossings", crossing=crossing)))  # fmt: skip
    for outcome, words in (
        ("p95_wait_hours", "worst 95th-percentile wait"),
        ("worst_day_p95_wait_hours", "worst day's 95th-percentile wait"),
        ("mean_end_to_end_wait_hours", "longest mean wait at a crossing"),
        ("persons_stranded_by_closures", "most stranded by closures"),
        ("persons_queued_overnight", "most queued overnight"),
    ):
        worst = _largest(summary, outcome)
        if len(worst):
            parts.append((f"{words} ({_where(worst.iloc[0])})", worst))
    rows = []
    for label, frame in parts:
        for record in frame.to_dict("records"):
            rows.append({"label": label, **{c: record[c] for c in HEADLINE_COLUMNS[1:]}})
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)


def format_headline(table: pd.DataFrame) -> list[str]:
    """The headline as terminal lines: label, mean and interval with thousands separators."""
    width = max((len(str(label)) for label in table["label"]), default=0)
    lines = []
    for row in table.to_dict("records"):
        digits = 0 if row["unit"].startswith("person") else 1
        low, high = f"{row['ci_low']:,.{digits}f}", f"{row['ci_high']:,.{digits}f}"
        interval = f"[{low}, {high}]" if pd.notna(row["ci_high"]) else ""
        lines.append(f"  {row['label']:<{width}}  {row['mean']:>12,.{digits}f} {interval} "
                     f"{row['unit']}".rstrip())  # fmt: skip
    return lines
