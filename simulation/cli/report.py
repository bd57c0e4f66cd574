"""``repatsim report RESULTS_DIR``: one self-contained HTML file of a results folder."""

from __future__ import annotations

import argparse
import sys

from simulation.cli.args import EXIT_BAD_INPUT, EXIT_WRITE_FAILED


def printable(text: str) -> str:
    """:func:`simulation.scenario.errors.printable`, imported when used (keeps --help fast)."""
    from simulation.scenario.errors import printable as one_line

    return one_line(text)


def add_report_parser(sub: argparse._SubParsersAction) -> None:
    """The ``report`` command and its arguments."""
    report = sub.add_parser(
        "report", help="write one self-contained HTML report of a results folder (opens offline)"
    )
    report.add_argument(
        "results_dir", metavar="RESULTS_DIR", help="a results folder repatsim wrote (any command)"
    )
    report.add_argument(
        "--out",
        metavar="FILE",
        help="write the report there (default RESULTS_DIR/report.html, listed in its manifest); "
        "an existing file is replaced only if it is a repatsim report",
    )


def report_command(args: argparse.Namespace) -> int:
    """Write the report; one line and exit 2 for a folder or --out that is refused."""
    from simulation.report import REPORT, ReportError, write_report

    try:
        path = write_report(args.results_dir, args.out)
    except ReportError as exc:
        print(printable(f"error: {exc}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        where = args.out or f"{args.results_dir}/{REPORT}"
        print(printable(f"error: {where}: writing the report failed ({exc}); nothing was "
                        "replaced"), file=sys.stderr)  # fmt: skip
        return EXIT_WRITE_FAILED
    print(printable(f"wrote {path}"))
    return 0
