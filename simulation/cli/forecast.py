"""``repatsim forecast EXPERIMENT.yaml``: monthly returns by group and mode, the deportation share,
arrests and the UN running count over a window, with intervals over parameter ranges (a Latin
hypercube of the file's uncertainties) and replications together.

Writes ``runs.csv`` (every run's monthly table), ``points.csv`` (the parameter values of each
point), ``forecast.csv`` (mean, median, 2.5% and 97.5% per month and quantity, the parameters'
share of the variance), ``plots/forecast.png`` and a manifest; prints a compact monthly table."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from simulation.cli.args import (
    EXIT_WRITE_FAILED,
    UsageError,
    add_runner,
    add_seeds,
    whole,
    written,
)

MAX_SAMPLES = 100_000


def add_forecast_parser(sub: argparse._SubParsersAction) -> None:
    """The ``forecast`` command and its arguments."""
    forecast = sub.add_parser(
        "forecast", help="monthly forecast with intervals over parameter ranges and replications"
    )
    forecast.add_argument("experiment", help="experiment YAML file (uncertainties with ranges)")
    forecast.add_argument("--out", help="output folder (default results/<experiment name>/)")
    forecast.add_argument(
        "--samples",
        type=whole(1, MAX_SAMPLES, f"from 1 to {MAX_SAMPLES}"),
        help="override the experiment's samples (Latin hypercube points)",
    )
    forecast.add_argument("--observed", metavar="FILE",
                          help="observed returns CSV for the UN offset (default: the "
                               "repository's data/observed/returns.csv)")  # fmt: skip
    add_seeds(forecast, "the experiment's")
    add_runner(forecast)
    forecast.add_argument("--quiet", "-q", action="store_true", help="no progress bar or table")


def forecast_command(args: argparse.Namespace) -> int:
    """Run the forecast; exit 2 (one line) for a bad file, 1 if writing fails."""
    from simulation.calibration import ObservedError, default_observed, read_observed
    from simulation.calibration.forecast import un_offset, un_points
    from simulation.calibration.forecast_runs import load_forecast, run_forecast
    from simulation.experiments.runners import runner_for
    from simulation.folders import check_destination

    experiment, window = load_forecast(args.experiment)
    if args.samples is not None and not experiment.ranges:
        raise UsageError(f"--samples {args.samples}: {args.experiment} has no ranges to sample")
    path = Path(args.observed) if args.observed else default_observed()
    try:
        observed = read_observed(path)
        count = un_offset(observed, experiment.arm([]).calendar.start)
    except ObservedError as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.out) if args.out else Path("results") / experiment.spec.name
    check_destination(out)  # refuse before simulating, not after
    with runner_for(args.workers, args.dask) as runner:
        result = run_forecast(experiment, window, count, args.replications, args.samples,
                              args.seed, runner, not args.quiet)  # fmt: skip
    result.manifest |= {"experiment": str(args.experiment), "observed_file": str(path),
                        "variance_split": VARIANCE_NOTE, "replications_per_point": max(
                            1, int(result.runs["replication"].max()) + 1)}  # fmt: skip
    points = un_points(observed, count, window)
    if not args.quiet:
        print_forecast(result.table, count.words, len(result.points),
                       result.manifest["replications_per_point"])  # fmt: skip
    if not _write(out, result, points):
        return EXIT_WRITE_FAILED
    print(f"wrote {out}/ (forecast.csv: every month and quantity; runs.csv: every run)")
    return 0


VARIANCE_NOTE = (
    "parameter_share: one-way analysis of variance over design points on the same runs "
    "(var of point means less within-point variance / replications), chosen over a separate "
    "central point because a Latin hypercube has no privileged centre and it costs no extra "
    "runs; replication_sd: the pooled within-point sd (replication noise alone)"
)


def _write(out: Path, result: Any, observed_points: Any) -> bool:
    """Write the tables, the figure and the manifest atomically; False after one line."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window from the command line
    from simulation.plots.forecast import plot_forecast

    figure = plot_forecast(result.table, observed_points)

    def write(tmp: Path) -> list[str]:
        result.runs.to_csv(tmp / "runs.csv", index=False)
        result.points.to_csv(tmp / "points.csv", index=False)
        result.table.to_csv(tmp / "forecast.csv", index=False)
        (tmp / "plots").mkdir()
        figure.savefig(tmp / "plots" / "forecast.png", dpi=120, bbox_inches="tight")
        return ["runs.csv", "points.csv", "forecast.csv", "plots/forecast.png"]

    from simulation.folders import write_folder

    manifest = {k: (str(v) if hasattr(v, "isoformat") else v) for k, v in result.manifest.items()}
    manifest["window"] = [str(d) for d in result.manifest["window"]]
    return written(out, lambda: write_folder(out, write, manifest), {"forecast": figure})


def print_forecast(table: Any, offset_words: str, points: int, replications: int) -> None:
    """One line per month: all returns [95% over runs], by group (mean), the deported share and
    the UN running count at month end."""
    from simulation.scenario.errors import printable

    returns = table[(table["quantity"] == "returns") & (table["mode"] == "all")]
    groups = [g for g in returns["group"].unique() if g != "all"]
    print(f"Forecast over {points} parameter point(s) x {replications} replication(s); "
          "mean [2.5%, 97.5%] over all runs:")  # fmt: skip
    widths = [max(len(g), 9) for g in groups]
    names = " | ".join(f"{g:>{w}}" for g, w in zip(groups, widths, strict=True))
    head = (f"| month   | {'returns, all groups':<33} | {names} | deported % | "
            f"{'UN cumulative':<33} |")  # fmt: skip
    print(head)
    print("|" + "|".join("-" * len(part) for part in head.split("|")[1:-1]) + "|")
    for month in returns["month"].unique():
        rows = table[table["month"] == month]
        by_group = " | ".join(f"{_cell(rows, 'returns', g, 'all', False):>{w}}"
                              for g, w in zip(groups, widths, strict=True))  # fmt: skip
        print(f"| {month} | {_cell(rows, 'returns', 'all', 'all'):<33} | {by_group} | "
              f"{_cell(rows, 'deported_share', 'all', 'deported', False):>10} | "
              f"{_cell(rows, 'un_cumulative', 'all', 'all'):<33} |")  # fmt: skip
    print(printable(f"UN cumulative = {offset_words}"))


def _cell(rows: Any, quantity: str, group: str, mode: str, wide: bool = True) -> str:
    """One month's mean of a series, with its 95% interval over runs when ``wide``."""
    row = rows[(rows["quantity"] == quantity) & (rows["group"] == group) & (rows["mode"] == mode)]
    if row.empty:
        return "n/a"
    mean, low, high = (float(row.iloc[0][k]) for k in ("mean", "p2_5", "p97_5"))
    return f"{_n(mean)} [{_n(low)}, {_n(high)}]" if wide else _n(mean)


def _n(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"
