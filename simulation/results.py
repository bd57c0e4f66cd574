"""The Results container: tidy frames plus a manifest, and writing them to disk safely.

Writing is atomic (a temporary sibling folder, renamed into place) and never deletes a file that
repatsim did not write: an existing folder is replaced only when it is empty or its
``manifest.json`` lists every file in it (``"files"``); anything else raises
:class:`ResultsFolderError` before a single file is touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

FRAMES = ("daily_stage", "hourly_queue", "returns", "stocks", "outcomes", "summary")
MANIFEST = "manifest.json"
RESOLVED = "scenario.resolved.yaml"
PLOTS = "plots"
MARKER = ".repatsim-writing"  # written first into every temporary folder, removed last
STALE_AFTER_SECONDS = 24 * 3600  # age at which another host's temporary folder counts as stale

Allowed = Callable[[str, str], bool]  # (relative path, kind "file"/"dir"/"other") -> ours?


class ResultsFolderError(ValueError):
    """A results folder repatsim refuses to write; ``str()`` is one line; nothing was changed."""


@dataclass
class Results:
    """Tidy frames of one or many replications, each with a ``replication`` column."""

    daily_stage: pd.DataFrame
    hourly_queue: pd.DataFrame
    returns: pd.DataFrame
    stocks: pd.DataFrame
    outcomes: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The frames by name."""
        return {name: getattr(self, name) for name in FRAMES}


def write_results(
    results: Results,
    out_dir: str | Path,
    scenario_yaml: str,
    fmt: str = "csv",
    figures: dict[str, Any] | None = None,
) -> Path:
    """Write frames, manifest, resolved scenario and figures into ``out_dir``.

    ``out_dir`` must be new, empty, or a results folder repatsim wrote (see
    :func:`check_destination`); otherwise :class:`ResultsFolderError` is raised and nothing is
    touched. Everything is written to a temporary sibling folder first and moved into place at
    the end, so an interrupted run never leaves a half-written results folder (an older one stays
    whole); temporary folders left by killed runs are removed first.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format(={fmt!r}) must be 'csv' or 'parquet'.")
    out = check_destination(out_dir)
    _remove_stale_temps(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_temp(out)
    try:
        files = _write_files(tmp, results, scenario_yaml, fmt, figures)
        manifest = {**results.manifest, "package": "repatsim", "files": [*files, MANIFEST]}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # this run's own temporary folder
        raise
    return Path(out_dir)


def _write_files(
    tmp: Path, results: Results, scenario_yaml: str, fmt: str, figures: dict[str, Any] | None
) -> list[str]:
    """Write everything but the manifest into ``tmp``; return the relative paths written."""
    files = []
    for name, frame in results.frames().items():
        if fmt == "csv":
            frame.to_csv(tmp / f"{name}.csv", index=False)
        else:
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        files.append(f"{name}.{fmt}")
    (tmp / RESOLVED).write_text(scenario_yaml, encoding="utf-8")
    files.append(RESOLVED)
    if figures:
        (tmp / PLOTS).mkdir()
        for name, figure in figures.items():
            figure.savefig(tmp / PLOTS / f"{name}.png", dpi=120, bbox_inches="tight")
            files.append(f"{PLOTS}/{name}.png")
    return files


def read_results(out_dir: str | Path) -> Results:
    """Load a results folder written by :func:`write_results` (csv or parquet)."""
    folder = Path(out_dir)
    frames: dict[str, pd.DataFrame] = {}
    for name in FRAMES:
        parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
        if parquet.exists():
            frames[name] = pd.read_parquet(parquet)
        else:
            dates = {"daily_stage": ["date"], "returns": ["date"], "stocks": ["date"]}
            frames[name] = pd.read_csv(
                csv, parse_dates=dates.get(name, ["time"] if name == "hourly_queue" else [])
            )
    manifest = json.loads((folder / MANIFEST).read_text())
    return Results(**frames, manifest=manifest)


# ---------------------------------------------------------------- may repatsim write there?
def check_destination(out_dir: str | Path) -> Path:
    """The absolute folder ``out_dir`` if :func:`write_results` may write it, else raise.

    Allowed: a folder that does not exist yet under a writable folder, an empty folder, or a
    folder whose repatsim manifest lists every file in it. Refused with
    :class:`ResultsFolderError`: a file, a symbolic link, a folder holding anything repatsim did
    not write, an unwritable place. Nothing is created or changed.
    """
    out = Path(os.path.abspath(out_dir))
    if not out.name:
        raise ResultsFolderError(f"{out}: cannot be a results folder; name a folder inside it")
    _check_writable(out.parent)
    if os.path.lexists(out):
        _check_replaceable(out, "a results folder")
    old = _old_of(out)
    if os.path.lexists(old):
        _check_replaceable(old, "a swap folder")
    return out


def _check_writable(folder: Path) -> None:
    """Raise unless results can be created in ``folder`` (or in its nearest existing parent)."""
    probe = folder
    while not os.path.lexists(probe):
        probe = probe.parent
    if not probe.is_dir():
        raise ResultsFolderError(f"{probe}: is not a folder, so no results can be written in it")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ResultsFolderError(f"{probe}: no permission to write there; choose another folder")


def _check_replaceable(folder: Path, role: str) -> None:
    """Raise unless ``folder`` is an empty folder or a results folder repatsim wrote."""
    if folder.is_symlink() or not folder.is_dir():
        kind = "a symbolic link" if folder.is_symlink() else "a file, not a folder"
        raise ResultsFolderError(
            f"{folder}: is {kind}; repatsim will not replace it; choose another folder"
        )
    allowed = _results_files(folder)
    foreign = [rel for rel, kind in _entries(folder) if not allowed(rel, kind)]
    if foreign:
        raise ResultsFolderError(_refusal(folder, foreign, role))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ResultsFolderError(f"{folder}: no permission to replace it; choose another folder")


def _refusal(folder: Path, foreign: list[str], role: str) -> str:
    """Why ``folder`` holding ``foreign`` entries is not replaced, in one line."""
    if _repatsim_manifest(folder) and not _listed_files(folder):
        return (
            f"{folder}: is a results folder of an older repatsim, which did not list its files; "
            "delete it yourself or choose another folder (nothing was changed)"
        )
    more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
    return (
        f"{folder}: holds files repatsim did not write ({', '.join(foreign[:3])}{more}); it only "
        f"replaces {role} whose manifest.json lists every file; nothing was changed; "
        "choose another folder"
    )


def _results_files(folder: Path) -> Allowed:
    """Which entries of ``folder`` its repatsim manifest says repatsim wrote (none: no manifest)."""
    listed = _listed_files(folder)
    parents = {p.as_posix() for rel in listed for p in Path(rel).parents} - {"."}
    listed |= {MANIFEST, MARKER} if listed else set()

    def ours(rel: str, kind: str) -> bool:
        return (kind == "file" and rel in listed) or (kind == "dir" and rel in parents)

    return ours


def _listed_files(folder: Path) -> set[str]:
    """The ``"files"`` of the repatsim manifest in ``folder`` (empty if there is none)."""
    files = _repatsim_manifest(folder).get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return set()
    return set(files)


def _repatsim_manifest(folder: Path) -> dict[str, Any]:
    """The manifest in ``folder`` if repatsim wrote it (else empty)."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8")) if _is_file(path) else None
    except (OSError, ValueError):
        return {}
    if isinstance(manifest, dict) and manifest.get("package") == "repatsim":
        return manifest
    return {}


def _is_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _entries(folder: Path, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(relative path, kind) of everything under ``folder``, a folder before its contents."""
    with os.scandir(folder) as scan:
        found = sorted(scan, key=lambda entry: entry.name)
    for entry in found:
        rel = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            yield rel, "dir"
            yield from _entries(Path(entry.path), rel + "/")
        else:
            yield rel, "file" if entry.is_file(follow_symlinks=False) else "other"


def _remove(folder: Path, allowed: Allowed) -> None:
    """Delete the entries of ``folder`` that ``allowed`` accepts, then the folder if empty."""
    entries = list(_entries(folder))
    for rel, kind in entries:
        if kind == "file" and allowed(rel, kind):
            (folder / rel).unlink(missing_ok=True)
    for rel, kind in [*reversed(entries), ("", "dir")]:
        if kind == "dir" and (not rel or allowed(rel, kind)):
            with contextlib.suppress(OSError):  # not empty: it holds what is not ours; it stays
                (folder / rel).rmdir()


# ---------------------------------------------------------------- temporary folders and swap
def _old_of(out: Path) -> Path:
    return out.with_name(f".{out.name}.old")


def _new_temp(out: Path) -> Path:
    """A new hidden sibling folder of ``out``, marked as repatsim's before anything else."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; results are an ordinary folder
    owner = {"package": "repatsim", "pid": os.getpid(), "host": socket.gethostname()}
    (tmp / MARKER).write_text(json.dumps(owner))
    return tmp


def _swap(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out``; the older ``out`` (checked again: it is repatsim's) is deleted."""
    old = _old_of(out)
    if os.path.lexists(old):
        _check_replaceable(old, "a swap folder")
        _remove(old, _results_files(old))
    replacing = os.path.lexists(out)
    if replacing:
        _check_replaceable(out, "a results folder")  # files may have appeared while simulating
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        if replacing:
            os.replace(old, out)
        raise
    (out / MARKER).unlink()
    if replacing:
        _remove(old, _results_files(old))


def _remove_stale_temps(out: Path) -> None:
    """Remove temporary folders that killed runs writing ``out`` left beside it."""
    if not out.parent.is_dir():
        return
    pattern = re.compile(re.escape(f".{out.name}.") + r"[a-z0-9_]{8}")
    for entry in out.parent.iterdir():
        if pattern.fullmatch(entry.name) and _is_abandoned(entry):
            _remove(entry, _temp_files)


def _temp_files(rel: str, kind: str) -> bool:
    """Whether ``rel`` is a name :func:`write_results` writes into a temporary folder."""
    top = {MARKER, MANIFEST, RESOLVED, *(f"{n}.{f}" for n in FRAMES for f in ("csv", "parquet"))}
    if kind == "dir":
        return rel == PLOTS
    plot = rel.startswith(f"{PLOTS}/") and rel.count("/") == 1 and rel.endswith(".png")
    return kind == "file" and (rel in top or plot)


def _is_abandoned(folder: Path) -> bool:
    """Whether ``folder`` is a repatsim temporary folder whose run is over (killed)."""
    marker = folder / MARKER
    if folder.is_symlink() or not _is_file(marker):
        return False
    try:
        owner = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(owner, dict) or owner.get("package") != "repatsim":
        return False
    pid = owner.get("pid")
    if owner.get("host") == socket.gethostname() and os.name == "posix" and isinstance(pid, int):
        return not _alive(pid)
    return time.time() - marker.stat().st_mtime > STALE_AFTER_SECONDS


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (POSIX only)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
