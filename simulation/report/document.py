"""The report as one HTML document: each section made by its own small function, and a folder
kind without a section's table simply lacks that section."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from simulation.experiments.replications import package_version
from simulation.report.experiments import differences_section, sizing_section
from simulation.report.figures import run_figures_section
from simulation.report.folder import Folder
from simulation.report.headline import headline_section
from simulation.report.html import Html, page
from simulation.report.provenance import provenance_section
from simulation.report.scenario import scenario_section
from simulation.report.score import score_section
from simulation.report.sweep import sweep_section

Section = Callable[[Folder], Html | None]
SECTIONS: tuple[Section, ...] = (
    headline_section,
    differences_section,
    sizing_section,
    sweep_section,
    score_section,
    run_figures_section,
    scenario_section,
    provenance_section,
)
KINDS = {"run": "results", "compare": "comparison", "size": "sizing", "sweep": "sweep",
         "score": "fit to observed figures"}  # fmt: skip


def title(folder: Folder) -> str:
    """``repatsim <kind>: <what>``, naming the scenario, experiment or folder."""
    manifest = folder.manifest
    what = folder.path.resolve().name
    if folder.kind == "run" and isinstance(manifest.get("scenario"), str):
        what = manifest["scenario"]
    elif folder.kind == "compare" and isinstance(manifest.get("experiment"), str):
        what = Path(manifest["experiment"]).stem
    elif folder.kind == "size":
        what = f"{manifest.get('scenario', what)}, {manifest.get('stage', '')}"
    return f"repatsim {KINDS.get(folder.kind, folder.kind)}: {what}"


def build_report(folder: Folder) -> str:
    """The whole report of ``folder`` as one self-contained HTML text."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = (f"Report of the results folder {folder.path.resolve().name}/, written {now} by "
                f"repatsim {package_version()}.")  # fmt: skip
    made = (section(folder) for section in SECTIONS)
    return str(page(title(folder), subtitle, [s for s in made if s]))
