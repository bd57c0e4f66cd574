"""Command-line arguments: one-line errors, bounded whole numbers, options shared by commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

EXIT_BAD_INPUT = 2
EXIT_WRITE_FAILED = 1
SEED_LIMIT = 2**63  # seeds are 0 <= seed < 2**63
MAX_REPLICATIONS = 100_000
MAX_WORKERS = 1024


class UsageError(Exception):
    """A bad command line; ``str()`` is one line."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block) for :func:`main`."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message.removeprefix('argument ')} (see {self.prog} --help)")


def whole(low: int, high: int, bounds: str) -> Callable[[str], int]:
    """An argparse type: a whole number ``low <= value <= high`` (``bounds`` says so in words)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number {bounds} (got {text!r})")
        return value

    return parse


def add_runner(parser: argparse.ArgumentParser) -> None:
    """``--workers`` and ``--dask``: where the runs execute (results do not depend on it)."""
    parser.add_argument(
        "--workers",
        type=whole(1, MAX_WORKERS, f">= 1 (one process per worker; at most {MAX_WORKERS})"),
        default=1,
        help="local worker processes, at least 1 (default 1)",
    )
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on Dask: 'local' starts a LocalCluster of --workers processes (at least 2); "
        "tcp://HOST:8786 uses a running scheduler",
    )


def add_seeds(parser: argparse.ArgumentParser, what: str) -> None:
    """``--replications`` and ``--seed`` overriding ``what``."""
    parser.add_argument(
        "--replications",
        "-n",
        type=whole(1, MAX_REPLICATIONS, f">= 1 and <= {MAX_REPLICATIONS}"),
        help=f"override {what} replications (1 to {MAX_REPLICATIONS})",
    )
    parser.add_argument(
        "--seed",
        type=whole(0, SEED_LIMIT - 1, "0 <= seed < 2**63"),
        help=f"override {what} seed (0 <= seed < 2**63)",
    )


def add_overrides(parser: argparse.ArgumentParser) -> None:
    """``--set KEY.PATH=VALUE`` (and ``KEY.PATH+=VALUE`` to append), repeatable."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override any scenario value by its dotted key path; KEY+=VALUE appends to a "
        "list (repeatable)",
    )


def written(out: Path, write: Callable[[], object], figures: dict[str, Any] | None) -> bool:
    """Run ``write`` (which writes the folder ``out``); on an OSError print one line and return
    False (older results stay whole). The figures are closed either way."""
    try:
        write()
    except OSError as exc:
        print(f"error: {out}: writing failed ({exc}); older results stay", file=sys.stderr)
        return False
    finally:
        if figures:
            import matplotlib.pyplot as plt

            for figure in figures.values():
                plt.close(figure)
    return True
