"""Provenance: what made the results, from the folder's ``manifest.json``."""

from __future__ import annotations

import json
from typing import Any

from simulation.report.folder import Folder
from simulation.report.html import Html, el, table
from simulation.scenario.errors import clip

LABELS = {
    "version": "repatsim version",
    "kind": "kind",
    "scenario": "scenario",
    "scenario_file": "scenario file",
    "scenario_sha256": "scenario file SHA-256",
    "experiment": "experiment file",
    "overrides": "--set overrides",
    "replications": "replications",
    "master_seed": "master seed",
    "replication_seeds": "replication seeds",
    "seed_rule": "seed rule",
    "runner": "runner",
    "wall_seconds": "wall time",
    "simpy_events": "SimPy events",
}
HIDDEN = {"package", "files", "run_files"}
SHOWN_ITEMS = 6  # a longer list shows its first and last items and its length
VALUE_LIMIT = 400  # characters of one value


def show(key: str, value: Any) -> str:
    """A manifest value in words: lists compact, seconds as time, the rest as JSON."""
    if key == "wall_seconds" and isinstance(value, int | float):
        return f"{value:,.1f} s" + (f" ({value / 60:,.1f} min)" if value >= 120 else "")
    if key == "overrides" and value == []:
        return "none"
    if key == "master_seed" and value is None:
        return "none (one replication on a given seed)"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        items = [str(v) for v in value]
        if len(items) > SHOWN_ITEMS:
            items = [*items[:3], "…", items[-1], f"({len(value):,} in all)"]
        return ", ".join(items) or "none"
    if isinstance(value, str):
        return clip(value, VALUE_LIMIT)
    return clip(json.dumps(value, default=str, ensure_ascii=False), VALUE_LIMIT)


def provenance_section(folder: Folder) -> Html:
    """Every manifest entry a reader needs to redo the results, known ones first."""
    manifest = folder.manifest
    keys = [k for k in LABELS if k in manifest]
    keys += [k for k in manifest if k not in LABELS and k not in HIDDEN]
    rows = [[LABELS.get(k, k), el("code", show(k, manifest[k]))] for k in keys]
    rows.append(["results folder", el("code", str(folder.path))])
    return el("section", el("h2", "Provenance"), table(["", "value"], rows), id="provenance")
