"""The command line: ``repatsim run | validate | compare | sweep | size | report | score |
calibrate | forecast | schema``.

A thin layer over the API: parsing, one-line errors and printing; no model logic. Each command
imports what it needs when it runs (``--help`` needs only argparse, ``validate`` the scenario
layer), so the command line starts fast."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from simulation.cli.args import (
    EXIT_BAD_INPUT,
    Parser,
    UsageError,
    add_overrides,
    add_runner,
    add_seeds,
    whole,
)
from simulation.cli.calibrate import add_calibrate_parser
from simulation.cli.forecast import add_forecast_parser
from simulation.cli.report import add_report_parser
from simulation.cli.score import add_score_parser


def _add_run(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run a scenario and write results and plots")
    run.add_argument("scenario", help="scenario YAML file")
    add_seeds(run, "run.")
    run.add_argument(
        "--out",
        help="output folder (default results/<scenario name>/, or results/<scenario name>-<hash "
        "of the --set overrides>/); replaced only if repatsim wrote everything in it",
    )
    add_overrides(run)
    run.add_argument("--format", choices=["csv", "parquet"], default="csv")
    add_runner(run)
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar or table")
    run.add_argument("--verbose", "-v", action="store_true", help="print the whole summary")
    run.add_argument("--report", action="store_true",
                     help="also write report.html (self-contained HTML) in the folder")  # fmt: skip


def _add_compare(sub: argparse._SubParsersAction) -> None:
    compare = sub.add_parser(
        "compare", help="run an experiment's baseline and variants on common random numbers"
    )
    compare.add_argument("experiment", help="experiment YAML file (with variants)")
    compare.add_argument("--out", help="output folder (default results/<experiment name>/)")
    add_seeds(compare, "the experiment's")
    add_runner(compare)
    compare.add_argument("--quiet", "-q", action="store_true", help="no progress or headline")


def _add_sweep(sub: argparse._SubParsersAction) -> None:
    sweep = sub.add_parser(
        "sweep", help="run an experiment's levers and uncertainties (grid or Latin hypercube)"
    )
    sweep.add_argument("experiment", help="experiment YAML file (with levers/uncertainties)")
    sweep.add_argument("--out", help="output folder (default results/<experiment name>/)")
    sweep.add_argument("--resume", action="store_true",
                       help="keep this sweep's finished runs in --out")  # fmt: skip
    add_seeds(sweep, "the experiment's")
    add_runner(sweep)
    sweep.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def _add_size(sub: argparse._SubParsersAction) -> None:
    size = sub.add_parser("size", help="smallest number of servers at a stage meeting a target")
    size.add_argument("scenario", help="scenario YAML file")
    size.add_argument("--stage", required=True, metavar="CROSSING.STAGE")
    size.add_argument("--target", required=True, metavar="'OUTCOME<=VALUE'",
                      help="e.g. 'p95_wait_hours<=2' or 'worst_day_p95_wait_hours<=6'")  # fmt: skip
    size.add_argument("--probability", type=float, default=0.9,
                      help="share of replications meeting the target (default 0.9)")  # fmt: skip
    size.add_argument("--max", type=whole(1, 100_000, "from 1 to 100000"), default=200,
                      help="most servers to try (default 200)")  # fmt: skip
    size.add_argument("--scale", action="store_true",
                      help="keep the stage's dated server changes and scale them (default: the "
                           "count applies on every date, replacing them)")  # fmt: skip
    size.add_argument("--out", help="output folder (default results/<scenario>-size-<stage>/)")
    add_seeds(size, "run.")
    add_overrides(size)
    add_runner(size)
    size.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="repatsim", description="Simulate refugee repatriation through border crossings."
    )
    parser.add_argument("--version", action="version", version=f"repatsim {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub)
    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("scenarios", nargs="+", help="scenario YAML files")
    add_overrides(val)
    _add_compare(sub)
    _add_sweep(sub)
    _add_size(sub)
    add_report_parser(sub)
    add_score_parser(sub)
    add_calibrate_parser(sub)
    add_forecast_parser(sub)
    sub.add_parser("schema", help="print the JSON Schema of scenario files (for editors)")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("repatsim")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _schema(args: argparse.Namespace) -> int:
    from simulation.scenario.jsonschema import schema_text

    sys.stdout.write(schema_text())
    return 0


COMMANDS = {  # command -> (module of simulation.cli, function): imported when it runs
    "run": ("run", "run"),
    "validate": ("run", "validate"),
    "compare": ("experiments", "compare_command"),
    "sweep": ("experiments", "sweep_command"),
    "size": ("experiments", "size_command"),
    "report": ("report", "report_command"),
    "score": ("score", "score_command"),
    "calibrate": ("calibrate", "calibrate_command"),
    "forecast": ("forecast", "forecast_command"),
}


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "schema":
        return _schema(args)
    from importlib import import_module

    module, function = COMMANDS[args.command]
    command = getattr(import_module(f"simulation.cli.{module}"), function)
    status: int = command(args)
    return status


def _bad_input() -> tuple[type[Exception], ...]:
    """The errors that mean bad input (imported only when something went wrong)."""
    from simulation.folders import ResultsFolderError
    from simulation.scenario import ScenarioError

    return (ScenarioError, ResultsFolderError)


def printable(text: str) -> str:
    """:func:`simulation.scenario.errors.printable` (imported when needed)."""
    from simulation.scenario.errors import printable as one_line

    return one_line(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for bad input, with a one-line message)."""
    try:
        return _dispatch(_parser().parse_args(argv))
    except (SystemExit, KeyboardInterrupt, UsageError) as exc:  # before _bad_input() imports
        if isinstance(exc, SystemExit):  # --help, --version
            raise
        if isinstance(exc, KeyboardInterrupt):
            print("interrupted; nothing was written", file=sys.stderr)
            return 130
        print(printable(f"error: {exc}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except _bad_input() as exc:
        print(printable(f"error: {exc}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except ImportError as exc:
        print(printable(f"error: {exc} (install it, e.g. pip install pyarrow)"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except RuntimeError as exc:  # an optional engine missing or unreachable (Dask)
        print(printable(f"error: {exc}"), file=sys.stderr)
        return EXIT_BAD_INPUT


__all__ = ["main"]
