"""Sections of the experiment folders: a comparison's differences, a sizing's evidence."""

from __future__ import annotations

from typing import Any

import pandas as pd

from simulation.report.figures import optional_figure
from simulation.report.folder import Folder
from simulation.report.headline import where
from simulation.report.html import Html, el, interval, join, number, table

HEADLINE_ROWS = 12  # per variant


def _difference_rows(frame: pd.DataFrame) -> list[list[object]]:
    rows = []
    for _, row in frame.iterrows():
        note = ""
        if not bool(row.get("pairing_narrows", True)):
            note = "not narrowed by pairing"
        rows.append([
            row["variant"], row["outcome"], where(row), number(row["difference"]),
            interval(row["ci_low"], row["ci_high"]), number(row["base_mean"]),
            number(row["variant_mean"]), row["unit"], note,
        ])  # fmt: skip
    return rows


DIFFERENCE_HEADER = ["variant", "outcome", "where", "variant − baseline", "paired interval",
                     "baseline mean", "variant mean", "unit", "note"]  # fmt: skip


def _variants(manifest: dict[str, Any]) -> Html:
    """Each variant and the overrides that make it."""
    variants = manifest.get("variants")
    if not isinstance(variants, dict) or not variants:
        return Html("")
    items = []
    for name, overrides in variants.items():
        shown = ", ".join(map(str, overrides)) if isinstance(overrides, list) else str(overrides)
        items.append(el("li", el("b", str(name)), ": ", el("code", shown or "no change")))
    return join([el("h3", "Variants"), el("ul", join(items))])


def differences_section(folder: Folder) -> Html | None:
    """A comparison's paired differences: the headline ones, a figure, then all (in a fold)."""
    differences = folder.table("differences")
    if differences is None:
        return None
    from simulation.experiments.compare import headline

    runs = folder.manifest.get("replications", "?")
    intro = (f"Each variant minus the baseline, paired by replication on common random numbers "
             f"({runs} replications), with its paired 95% confidence interval.")  # fmt: skip
    first = headline(differences, HEADLINE_ROWS) if not differences.empty else differences
    listed = (
        table(DIFFERENCE_HEADER, _difference_rows(first), (3, 5, 6))
        if not first.empty
        else el("p", "No outcome differs from the baseline with 95% confidence.")
    )
    every = el("details", el("summary", f"All {len(differences):,} differences"),
               table(DIFFERENCE_HEADER, _difference_rows(differences), (3, 5, 6)))  # fmt: skip
    caption = "Persons returned: each variant minus the baseline, with its paired 95% interval."
    return el(
        "section",
        el("h2", "Differences from the baseline"),
        el("p", intro, class_="note"),
        _variants(folder.manifest),
        el("h3", "Returns, and the largest clear differences"),
        listed,
        optional_figure("plot_differences", caption, differences),
        every,
        id="differences",
    )


def _answer(manifest: dict[str, Any]) -> str:
    """The sizing's answer in one sentence."""
    stage, target = manifest.get("stage", "?"), manifest.get("target", "?")
    share = manifest.get("probability")
    share_text = f"{share:.0%}" if isinstance(share, int | float) else "?"
    servers = manifest.get("servers")
    if servers is None:
        most = manifest.get("max_servers", "?")
        return f"The target {target} is not met in {share_text} of replications with up to " \
               f"{most} servers at {stage}."  # fmt: skip
    return f"Answer: {servers} servers at {stage} meet {target} in at least {share_text} of " \
           f"replications."  # fmt: skip


def sizing_section(folder: Folder) -> Html | None:
    """A sizing's answer and the evidence of every server count tried."""
    evidence = folder.table("sizing")
    if evidence is None:
        return None
    header = ["servers", "replications meeting the target", "share", "mean", "worst",
              "worst day's p95 wait (hours)", "meets the target"]  # fmt: skip
    rows = [
        [int(r["servers"]), f"{int(r['met'])} of {int(r['replications'])}",
         f"{float(r['share_met']):.0%}", number(r["mean"]), number(r["worst"]),
         number(r["worst_day_p95_wait_hours"]), "yes" if bool(r["meets_target"]) else "no"]
        for _, r in evidence.iterrows()
    ]  # fmt: skip
    return el(
        "section",
        el("h2", "Sizing"),
        el("p", el("b", _answer(folder.manifest))),
        table(header, rows, (0, 2, 3, 4, 5)),
        _sizing_figure(folder.manifest, evidence),
        id="sizing",
    )


def _sizing_figure(manifest: dict[str, Any], evidence: pd.DataFrame) -> Html:
    from simulation.experiments.sizing import parse_target

    try:
        target = parse_target(str(manifest.get("target", "")))
    except ValueError:
        return Html("")
    probability = manifest.get("probability")
    caption = f"{target.outcome} per server count, against the target {target}."
    return optional_figure("plot_sizing", caption, evidence, target.value,
                           probability=probability, outcome=target.outcome)  # fmt: skip
