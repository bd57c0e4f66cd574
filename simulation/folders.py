"""Results folders that never cost a user a file: checked before a run, written atomically.

Every command writes its outputs through :func:`write_folder`: into a temporary hidden sibling
folder (marked as repatsim's before anything else), renamed into place at the end. An existing
folder is replaced only when it is empty or its ``manifest.json`` lists every file in it
(``"files"``); anything else raises :class:`ResultsFolderError` before a single file is touched.
Temporary folders left by killed runs are removed by the next run writing the same folder.

A sweep writes its folder progressively instead (:func:`start_progressive`, :func:`write_atomic`):
its manifest, written first, says ``"run_files": true``, which makes its run files
(``runs/pNNNN-rNNN.parquet``) and the temporary names of its own files count as repatsim's.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
MARKER = ".repatsim-writing"  # written first into every temporary folder, removed last
STALE_AFTER_SECONDS = 24 * 3600  # age at which another host's temporary folder counts as stale
# what repatsim writes into a folder: only these are removed from an abandoned temporary one
WRITTEN = ("*.csv", "*.parquet", "*.json", "*.yaml", "*.html", "*/*.png", "*/*.parquet", "*/*.csv")

Allowed = Callable[[str, str], bool]  # (relative path, kind "file"/"dir"/"other") -> ours?
PROGRESSIVE = "run_files"  # manifest key, true in a folder written run by run (a sweep)
RUN_FILE = re.compile(r"runs/p[0-9]{4,}-r[0-9]{3,}\.parquet")  # one run of a sweep
# a file being written in place by write_atomic: (folder/).NAME.XXXXXXXX.tmp
TEMP_FILE = re.compile(r"(?P<folder>(?:[^/]+/)?)\.(?P<name>[^/]+)\.[a-z0-9_]{8}\.tmp")


class ResultsFolderError(ValueError):
    """A results folder repatsim refuses to write; ``str()`` is one line; nothing was changed."""


def write_folder(
    out_dir: str | Path, write: Callable[[Path], list[str]], manifest: dict[str, Any]
) -> Path:
    """Write a folder of outputs atomically: ``write(tmp)`` writes its files into a temporary
    folder and returns their relative paths; ``manifest`` (plus that list) goes beside them.

    ``out_dir`` must be new, empty, or a folder repatsim wrote (see :func:`check_destination`).
    """
    out = check_destination(out_dir)
    _remove_stale_temps(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_temp(out)
    try:
        files = write(tmp)
        listed = {**manifest, "package": "repatsim", "files": [*files, MANIFEST]}
        (tmp / MANIFEST).write_text(json.dumps(listed, indent=2, default=str))
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # this run's own temporary folder
        raise
    return Path(out_dir)


# ---------------------------------------------------------------- may repatsim write there?
def check_destination(out_dir: str | Path) -> Path:
    """The absolute folder ``out_dir`` if repatsim may write its outputs there, else raise.

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
    """Which entries of ``folder`` its repatsim manifest says repatsim wrote (none: no manifest).

    A progressive folder's (``"run_files": true``) also holds run files and temporary names
    of its own files (listed or run files) left by a killed write.
    """
    listed = _listed_files(folder)
    progressive = bool(listed) and _repatsim_manifest(folder).get(PROGRESSIVE) is True
    parents = {p.as_posix() for rel in listed for p in Path(rel).parents} - {"."}
    parents |= {"runs"} if progressive else set()
    listed |= {MANIFEST, MARKER} if listed else set()

    def named(rel: str) -> bool:
        return rel in listed or (progressive and RUN_FILE.fullmatch(rel) is not None)

    def ours(rel: str, kind: str) -> bool:
        if kind == "dir":
            return rel in parents
        temp = TEMP_FILE.fullmatch(rel) if progressive else None
        being_written = temp is not None and named(temp["folder"] + temp["name"])
        return kind == "file" and (named(rel) or being_written)

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
    """Whether ``rel`` is a name repatsim writes into a temporary folder."""
    if kind == "dir":
        return "/" not in rel
    return kind == "file" and (rel == MARKER or any(fnmatch.fnmatch(rel, p) for p in WRITTEN))


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


# ---------------------------------------------------------------- folders written run by run
def start_progressive(
    out_dir: str | Path, manifest: dict[str, Any], files: list[str], resume_key: str | None = None
) -> Path:
    """Make ``out_dir`` ready to be written run by run and write its first manifest, listing
    ``files`` (the outputs to come) and allowing run files (``runs/pNNNN-rNNN.parquet``).

    ``out_dir`` must be new, empty or repatsim's (:func:`check_destination`). What repatsim
    wrote there is removed first, except, with ``resume_key``, the run files of a progressive
    folder whose manifest has the same ``resume_key`` value; another folder of repatsim's is
    then refused (nothing changed). The old manifest goes last, so a kill leaves a folder of ours.
    """
    out = check_destination(out_dir)
    old = _repatsim_manifest(out) if os.path.lexists(out) else {}
    keep_runs = resume_key is not None and bool(old)
    if keep_runs:
        _check_resumable(out, old, manifest, str(resume_key))
    if old:
        ours = _results_files(out)
        _remove(out, lambda rel, kind: ours(rel, kind) and not _kept(rel, keep_runs))
    out.mkdir(parents=True, exist_ok=True)
    write_progressive_manifest(out, manifest, files)
    return out


def _kept(rel: str, keep_runs: bool) -> bool:
    """Whether ``start_progressive`` keeps ``rel``: the manifest, and run files if resuming."""
    return rel == MANIFEST or (keep_runs and (rel == "runs" or RUN_FILE.fullmatch(rel) is not None))


def _check_resumable(out: Path, old: dict[str, Any], new: dict[str, Any], key: str) -> None:
    """Raise unless the folder's manifest ``old`` is progressive with ``new``'s ``key`` value."""
    if old.get(PROGRESSIVE) is True and old.get(key) == new.get(key):
        return
    kind = old.get("kind") if isinstance(old.get("kind"), str) else "run"
    kind = re.sub(r"[^A-Za-z0-9_-]", "?", str(kind))[:40]
    why = f"a different {kind} ({key} differs)"
    if old.get(PROGRESSIVE) is not True:
        why = f"the results of a {kind}, not of one written run by run"
    raise ResultsFolderError(
        f"{out}: holds {why}, so there is nothing to resume; nothing was changed; start again "
        "without resuming to replace it, or choose another folder"
    )


def write_progressive_manifest(out: Path, manifest: dict[str, Any], files: list[str]) -> None:
    """Write ``out/manifest.json`` atomically: ``manifest`` listing ``files``, run by run."""
    listed = {**manifest, "package": "repatsim", PROGRESSIVE: True, "files": [MANIFEST, *files]}
    text = json.dumps(listed, indent=2, default=str)
    write_atomic(out / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` whole or not at all: ``write(tmp)`` fills a temporary file beside it
    (``.NAME.XXXXXXXX.tmp``, repatsim's in a progressive folder), which then replaces ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # mkstemp makes it private; results are ordinary files
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
