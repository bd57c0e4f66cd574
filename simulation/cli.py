"""Command line: ``repatsim run`` and ``repatsim validate``. A thin layer over the API."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from simulation.outputs.summary import DAY_UNIT
from simulation.results import Results, ResultsFolderError, check_destination, write_results
from simulation.scenario import ScenarioError, load_scenario, scenario_hash, scenario_to_yaml

EXIT_BAD_INPUT = 2
EXIT_WRITE_FAILED = 1
SEED_LIMIT = 2**63  # seeds are 0 <= seed < 2**63
MAX_REPLICATIONS = 100_000
MAX_WORKERS = 1024


class _UsageError(Exception):
    """A bad command line; ``str()`` is one line."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block) for :func:`main`."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message.removeprefix('argument ')} (see {self.prog} --help)")


def _whole(low: int, high: int, bounds: str) -> Callable[[str], int]:
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


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="repatsim", description="Simulate refugee repatriation through border crossings."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario and write results and plots")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument(
        "--replications",
        "-n",
        type=_whole(1, MAX_REPLICATIONS, f">= 1 and <= {MAX_REPLICATIONS}"),
        help=f"override run.replications (1 to {MAX_REPLICATIONS})",
    )
    run.add_argument(
        "--seed",
        type=_whole(0, SEED_LIMIT - 1, "0 <= seed < 2**63"),
        help="override run.seed (0 <= seed < 2**63)",
    )
    run.add_argument(
        "--out",
        help="output folder (default results/<scenario name>/, or results/<scenario name>-<hash "
        "of the --set overrides>/); replaced only if repatsim wrote everything in it",
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override any scenario value by its dotted key path (repeatable)",
    )
    run.add_argument("--format", choices=["csv", "parquet"], default="csv")
    run.add_argument(
        "--workers",
        type=_whole(1, MAX_WORKERS, f">= 1 (one process per worker; at most {MAX_WORKERS})"),
        default=1,
        help="worker processes, at least 1 (default 1)",
    )
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar or table")
    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("scenarios", nargs="+", help="scenario YAML files")
    val.add_argument("--set", dest="overrides", action="append", default=[], metavar="K=V")
    return parser


def _validate(args: argparse.Namespace) -> int:
    status = 0
    for path in args.scenarios:
        try:
            scenario = load_scenario(path, args.overrides)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        print(f"ok: {path} ({scenario.name}, {scenario.days} days)")
    return status


def _run(args: argparse.Namespace) -> int:
    from simulation.experiments.replications import run_replications

    scenario = load_scenario(args.scenario, args.overrides)
    out = Path(args.out) if args.out else default_out(scenario.name, args.overrides)
    check_destination(out)  # refuse before simulating, not after
    _check_format(args.format)
    results = run_replications(
        scenario, args.replications, args.seed, workers=args.workers, progress=not args.quiet
    )
    results.manifest["scenario_file"] = str(args.scenario)
    results.manifest["scenario_sha256"] = scenario_hash(args.scenario)
    results.manifest["overrides"] = list(args.overrides)
    if not _write(results, out, scenario_to_yaml(scenario), args.format, not args.no_plots):
        return EXIT_WRITE_FAILED
    if not args.quiet:
        _print_headline(results.summary)
    print(f"wrote {out}/")
    return 0


def _write(results: Results, out: Path, scenario_yaml: str, fmt: str, plots: bool) -> bool:
    """Write the results folder (and plots); False, with a one-line message, if writing failed."""
    figures = None
    if plots:
        import matplotlib

        matplotlib.use("Agg")  # files only: never open a window from the command line
        from simulation.plots import standard_figures

        figures = standard_figures(results.daily_stage, results.returns, results.stocks)
    try:
        write_results(results, out, scenario_yaml, fmt, figures)
    except OSError as exc:
        print(f"error: {out}: writing results failed ({exc}); older results stay", file=sys.stderr)
        return False
    finally:
        if figures:
            import matplotlib.pyplot as plt

            for figure in figures.values():
                plt.close(figure)
    return True


def default_out(name: str, overrides: Sequence[str]) -> Path:
    """``results/<name>``, or ``results/<name>-<hash>`` for a run with ``--set`` overrides.

    The hash is of the overrides sorted by key (the last assignment of a key wins), so variants
    never replace the baseline's results, nor each other's.
    """
    if not overrides:
        return Path("results") / name
    last = {assignment.partition("=")[0].strip(): assignment for assignment in overrides}
    text = "\n".join(last[key] for key in sorted(last))
    return Path("results") / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def _check_format(fmt: str) -> None:
    """Fail before simulating when ``--format parquet`` cannot be written."""
    if fmt == "parquet" and not any(
        importlib.util.find_spec(engine) for engine in ("pyarrow", "fastparquet")
    ):
        raise ImportError("--format parquet needs pyarrow")


def _print_headline(summary: object) -> None:
    import pandas as pd

    assert isinstance(summary, pd.DataFrame)
    table = summary.copy()
    for col in ("mean", "ci_low", "ci_high"):
        table[col] = table[col].round(1)
    table["mean_date"] = table["mean_date"].dt.strftime("%Y-%m-%d").fillna("")
    never = (table["unit"] == DAY_UNIT) & (table["n"] == 0)
    table.loc[never, "mean_date"] = "not reached"
    cols = [
        "outcome", "crossing", "stage", "group", "mode", "mean", "ci_low", "ci_high", "unit",
        "mean_date",
    ]  # fmt: skip
    with pd.option_context("display.max_rows", 200, "display.width", 160):
        print(table[cols].to_string(index=False))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for bad input, with a one-line message)."""
    try:
        args = _parser().parse_args(argv)
        return _validate(args) if args.command == "validate" else _run(args)
    except (_UsageError, ScenarioError, ResultsFolderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ImportError as exc:
        print(f"error: {exc} (install it, e.g. pip install pyarrow)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
