"""``repatsim score SCENARIO.yaml``: how well a scenario reproduces observed returns.

Runs replications, scores every comparable observed figure of one counting series (ARD =
|sim - obs| / obs), prints a compact table and writes ``score.csv``, ``skipped.csv`` and
``plots/score.png`` into a results folder."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import math
import sys
from pathlib import Path
from typing import Any

from simulation.cli.args import EXIT_WRITE_FAILED, UsageError, add_overrides, add_runner, add_seeds


def printable(text: str) -> str:
    """:func:`simulation.scenario.errors.printable`, imported when used (keeps --help fast)."""
    from simulation.scenario.errors import printable as one_line

    return one_line(text)


def clip(text: str, limit: int = 200) -> str:
    """:func:`simulation.scenario.errors.clip`, imported when used."""
    from simulation.scenario.errors import clip as cut

    return cut(text, limit)


def add_score_parser(sub: argparse._SubParsersAction) -> None:
    """The ``score`` command and its arguments."""
    score = sub.add_parser(
        "score", help="score a scenario against observed returns (ARD per figure, mean, plot)"
    )
    score.add_argument("scenario", help="scenario YAML file")
    score.add_argument("--observed", metavar="FILE",
                       help="observed returns CSV (default: the repository's "
                            "data/observed/returns.csv)")  # fmt: skip
    score.add_argument("--series", default="UN",
                       help="the one counting series to score against: UN (default), PK_KP or "
                            "PK_official; series are never mixed")  # fmt: skip
    score.add_argument("--until", type=iso_date, metavar="DATE",
                       help="score only figures ending on or before DATE (YYYY-MM-DD)")  # fmt: skip
    score.add_argument("--strict", action="store_true",
                       help="skip all-status figures counting a status the scenario has no "
                            "group for, unless a stated share adjusts them (default: compare "
                            "them and flag it)")  # fmt: skip
    score.add_argument("--out", help="output folder (default results/<scenario name>-score/)")
    add_seeds(score, "run.")
    add_overrides(score)
    add_runner(score)
    score.add_argument("--quiet", "-q", action="store_true", help="no progress bar or table")


def iso_date(text: str) -> dt.date:
    """An argparse type: a calendar date ``YYYY-MM-DD``."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a date YYYY-MM-DD (got {clip(text, 40)!r})"
        ) from None


def score_command(args: argparse.Namespace) -> int:
    """Run and score the scenario; exit 2 (one line) for a bad file, series or date."""
    from simulation.calibration import ObservedError, default_observed, one_series, read_observed
    from simulation.calibration import score as score_run
    from simulation.cli.run import default_out, warn_shadowed
    from simulation.experiments.replications import run_replications
    from simulation.experiments.runners import runner_for
    from simulation.scenario import load_scenario, scenario_hash

    path = Path(args.observed) if args.observed else default_observed()
    try:
        observed = read_observed(path)
        one_series(observed, args.series, path)
    except ObservedError as exc:
        raise UsageError(str(exc)) from None
    scenario = load_scenario(args.scenario, args.overrides)
    warn_shadowed(scenario, args.overrides)
    out = Path(args.out) if args.out else default_out(f"{scenario.name}-score", args.overrides)
    from simulation.folders import check_destination

    check_destination(out)  # refuse before simulating, not after
    with runner_for(args.workers, args.dask) as runner:
        results = run_replications(scenario, args.replications, args.seed,
                                   progress=not args.quiet, runner=runner)  # fmt: skip
    fit = score_run(scenario, results, observed, args.series, args.until, args.strict)
    manifest = results.manifest | {
        "kind": "score", "scenario_file": str(args.scenario),
        "scenario_sha256": scenario_hash(args.scenario), "overrides": list(args.overrides),
        "observed_file": str(path), "observed_sha256": _sha256(path), "series": args.series,
        "until": args.until, "strict": args.strict, "figures_compared": len(fit.compared),
        "rows_skipped": len(fit.skipped), "mean_ard": _number(fit.mean_ard),
        "median_ard": _number(float(fit.compared["ard"].median())),
        "worst_figure": None if fit.worst is None else fit.worst["row_id"], **fit.counts,
    }  # fmt: skip
    if not args.quiet:
        print_score(fit, path, int(results.manifest["replications"]))
    if not _write(out, fit, manifest):
        return EXIT_WRITE_FAILED
    print(f"wrote {out}/ (score.csv: every figure; skipped.csv: rows not compared and why)")
    return 0


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _number(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


def print_score(fit: Any, path: Path, replications: int) -> None:
    """The compared figures, one line each (adjustments as lettered notes), then the mean ARD,
    the worst figure and what was not compared."""
    print(printable(f"Score against series {fit.series} of {path} ({replications} replications; "
                    "ARD = |sim - obs| / obs; line: the figure's line in that file, whose "
                    "source titles score.csv repeats):"))  # fmt: skip
    print(f"  {'line':>4} {'figure':<44} {'period':<22} {'observed':>10} "
          f"{'simulated [95% CI]':<28} {'ARD':>6}")  # fmt: skip
    notes: dict[str, str] = {}
    for row in fit.compared.itertuples(index=False):
        mark = ""
        if row.adjustment:
            mark = notes.setdefault(row.adjustment, chr(ord("a") + len(notes) % 26))
        figure = f"{row.metric} {row.crossing}/{row.group}"
        sim = f"{_num(row.simulated_mean)} [{_num(row.ci_low)}, {_num(row.ci_high)}]"
        print(printable(f"  {row.row_id.split(':')[-1]:>4} {figure:<44} {_period(row):<22} "
                        f"{_num(row.observed):>10} {sim:<28} {row.ard:6.3f} {mark}"))  # fmt: skip
    print(_summary_line(fit))
    for text, mark in notes.items():
        print(printable(f"  {mark}: {text}"))
    counts = fit.counts
    print(f"Not compared: {len(fit.skipped)} rows of series {fit.series} in the calendar "
          f"(skipped.csv says why), {counts['outside_calendar']} rows outside it; "
          f"{counts['other_series_rows']} rows of other series never used.")  # fmt: skip


def _summary_line(fit: Any) -> str:
    if fit.worst is None:
        return "No observed figure of this series could be compared (see skipped.csv)."
    worst = fit.worst
    return printable(
        f"Mean ARD {fit.mean_ard:.3f} over {len(fit.compared)} figures (median "
        f"{fit.compared['ard'].median():.3f}); worst: {worst['metric']} {worst['crossing']}/"
        f"{worst['group']} {_period(worst)} ({worst['row_id']}), ARD {worst['ard']:.3f}"
    )


def _period(row: Any) -> str:
    start, end = _get(row, "date_start"), _get(row, "date_end")
    return str(end) if start == end else f"{start}..{end}"


def _get(row: Any, key: str) -> Any:
    import pandas as pd

    return row[key] if isinstance(row, pd.Series) else getattr(row, key)


def _num(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def score_files(tmp: Path, fit: Any, figure: Any) -> list[str]:
    """Write score.csv, skipped.csv and ``figure`` as plots/score.png into ``tmp`` (a folder
    being written); return their paths (``calibrate`` writes its fitted score the same way)."""
    fit.table.to_csv(tmp / "score.csv", index=False)
    skipped = fit.skipped.drop(columns=["observed", "simulated_mean", "ci_low", "ci_high", "ard",
                                        "adjustment", "comparable"])  # fmt: skip
    skipped.to_csv(tmp / "skipped.csv", index=False)
    (tmp / "plots").mkdir(exist_ok=True)
    figure.savefig(tmp / "plots" / "score.png", dpi=120, bbox_inches="tight")
    return ["score.csv", "skipped.csv", "plots/score.png"]


def _write(out: Path, fit: Any, manifest: dict[str, Any]) -> bool:
    """Write score.csv, skipped.csv and plots/score.png atomically; False after one line."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window from the command line
    import matplotlib.pyplot as plt

    from simulation.calibration.plots import plot_score

    figure = plot_score(fit.table, fit.daily, fit.curves)
    try:
        from simulation.folders import write_folder

        write_folder(out, lambda tmp: score_files(tmp, fit, figure), manifest)
    except OSError as exc:
        print(f"error: {out}: writing failed ({exc}); older results stay", file=sys.stderr)
        return False
    finally:
        plt.close(figure)
    return True
