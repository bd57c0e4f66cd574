"""Writing a report: atomically, next to the results (and listed in their manifest, so the
folder stays repatsim's own) or to a chosen file, never over a file that is not a report."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from simulation.folders import MANIFEST
from simulation.report.document import build_report
from simulation.report.folder import ReportError, open_folder
from simulation.report.html import GENERATOR

REPORT = "report.html"
SNIFF_BYTES = 4096  # a report names its generator within its first bytes


def is_report(path: Path) -> bool:
    """Whether ``path`` is a regular file that repatsim wrote as a report."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            start = handle.read(SNIFF_BYTES)
    except OSError:
        return False
    return f'<meta name="generator" content="{GENERATOR}">'.encode() in start


def check_target(path: Path) -> None:
    """Raise :class:`ReportError` unless a report may be written at ``path``."""
    if not path.parent.is_dir():
        raise ReportError(f"{path.parent}: is not a folder, so the report cannot be written there")
    if os.path.lexists(path) and not is_report(path):
        raise ReportError(
            f"{path}: exists and is not a repatsim report; repatsim will not overwrite it; "
            "choose another --out (nothing was changed)"
        )


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file beside it, replaced)."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # mkstemp makes it private; a report is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def list_in_manifest(folder: Path, name: str) -> None:
    """Add ``name`` to the ``"files"`` of the folder's manifest (rewritten atomically), so the
    folder stays one that repatsim may replace; a manifest without that list is left alone."""
    path = folder / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    files = manifest.get("files")
    if not isinstance(files, list) or name in files:
        return
    manifest["files"] = [*files, name]
    write_atomic(path, json.dumps(manifest, indent=2, default=str))


def _inside(path: Path, folder: Path) -> str | None:
    """``path`` relative to ``folder`` (with '/'), or None if it lies outside."""
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return None


def write_report(results_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of ``results_dir`` to ``results_dir/report.html`` (listed in its
    manifest) or to ``out``; :class:`ReportError` (one line, nothing changed) if not allowed."""
    folder = open_folder(results_dir)
    target = Path(out) if out is not None else folder.path / REPORT
    check_target(target)
    text = build_report(folder)
    listed = _inside(target, folder.path)
    if listed is not None:
        list_in_manifest(folder.path, listed)  # first: a kill then leaves no unlisted file
    write_atomic(target, text)
    return target
