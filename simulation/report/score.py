"""The report's section for a ``repatsim score`` folder: simulated against observed."""

from __future__ import annotations

import base64

import pandas as pd

from simulation.report.folder import Folder
from simulation.report.html import Html, el, esc, number, table


def _period(row: pd.Series) -> str:
    start, end = str(row["date_start"]), str(row["date_end"])
    return start if start == end else f"{start} to {end}"


def score_section(folder: Folder) -> Html | None:
    """Every scored figure (observed, simulated mean and 95% interval, ARD), the mean ARD, and
    the fit plot the command drew."""
    scored = folder.table("score")
    if scored is None:
        return None
    compared = scored[scored["comparable"].astype(str).str.lower() == "true"]
    header = ["figure", "period", "observed", "simulated (95% interval)", "ARD", "adjustment"]
    rows = [
        [f"{r['metric']} {r['crossing']} {r['group']}", _period(r), number(r["observed"]),
         f"{number(r['simulated_mean'])} ({number(r['ci_low'])} to {number(r['ci_high'])})",
         f"{float(r['ard']):.3f}", "" if pd.isna(r["adjustment"]) else str(r["adjustment"])]
        for _, r in compared.iterrows()
    ]  # fmt: skip
    mean = float(compared["ard"].mean()) if len(compared) else float("nan")
    summary = (f"{len(compared)} figures of series {folder.manifest.get('series', '?')} "
               f"compared; mean ARD {mean:.3f} (|simulated - observed| / observed).")  # fmt: skip
    return el("section", el("h2", "Fit to observed figures"), el("p", summary),
              table(header, rows, (2, 4)), _plot(folder), id="score")  # fmt: skip


def _plot(folder: Folder) -> Html:
    path = folder.path / "plots" / "score.png"
    if not path.is_file():
        return Html("")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    caption = "Simulated against observed over time: running counts and per-period figures."
    image = Html(f'<img src="data:image/png;base64,{data}" alt="{esc(caption)}">')
    return el("figure", image, el("figcaption", caption))
