"""``repatsim run`` and ``repatsim validate``: a thin layer over the API."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from simulation.cli.args import EXIT_BAD_INPUT, EXIT_WRITE_FAILED, written
from simulation.folders import check_destination
from simulation.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    scenario_hash,
    scenario_to_yaml,
)
from simulation.scenario.errors import printable
from simulation.scenario.transforms import shadowing_events

if TYPE_CHECKING:  # pandas and the results layer load only when a run needs them
    import pandas as pd

    from simulation.results import Results


def validate(args: argparse.Namespace) -> int:
    """``repatsim validate``: check scenario files; one line per file."""
    status = 0
    for path in args.scenarios:
        try:
            scenario = load_scenario(path, args.overrides)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        print(printable(f"ok: {path} ({scenario.name}, {scenario.days} days)"))
        warn_shadowed(scenario, args.overrides)
    return status


def warn_shadowed(scenario: object, overrides: Sequence[str]) -> None:
    """Warn (stderr) about each ``--set`` target that a dated setting overrides later."""
    from simulation.scenario import Scenario

    assert isinstance(scenario, Scenario)
    for assignment in overrides:
        key = assignment.partition("=")[0].removesuffix("+")
        for where in shadowing_events(scenario, key):
            print(printable(f"warning: --set {key} holds only until {where}"), file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """``repatsim run``: replications of a scenario, results and plots written to a folder."""
    from tqdm import tqdm

    from simulation.experiments.replications import run_replications
    from simulation.experiments.runners import runner_for

    # no tqdm monitor thread (it only retunes stalled bars): with no thread but this one, the
    # figures can be drawn on a second core (write_results(two_cores=True))
    tqdm.monitor_interval = 0

    scenario = load_scenario(args.scenario, args.overrides)
    warn_shadowed(scenario, args.overrides)
    out = Path(args.out) if args.out else default_out(scenario.name, args.overrides)
    check_destination(out)  # refuse before simulating, not after
    _check_format(args.format)
    with runner_for(args.workers, args.dask) as runner:
        results = run_replications(
            scenario, args.replications, args.seed, progress=not args.quiet, runner=runner
        )
    results.manifest["scenario_file"] = str(args.scenario)
    results.manifest["scenario_sha256"] = scenario_hash(args.scenario)
    results.manifest["overrides"] = list(args.overrides)
    if not _write(results, out, scenario, args.format, not args.no_plots):
        return EXIT_WRITE_FAILED
    if not args.quiet:
        print_headline(results.summary, out, args.verbose)
    print(f"wrote {out}/")
    if args.report:
        from simulation.report import write_report

        print(printable(f"wrote {write_report(out)}"))
    return 0


def _write(results: Results, out: Path, scenario: Scenario, fmt: str, plots: bool) -> bool:
    """Write the results folder (and plots); False, with a one-line message, if writing failed."""
    from simulation.results import write_results

    makers = None
    if plots:
        import matplotlib

        matplotlib.use("Agg")  # files only: never open a window from the command line
        from simulation.plots import policy_events
        from simulation.plots.standard import standard_figure_makers

        makers = standard_figure_makers(results.daily_stage, results.returns, results.stocks,
                                        events=policy_events(scenario),
                                        who_waits=results.who_waits)  # fmt: skip
    yaml_text = scenario_to_yaml(scenario)
    # each figure is drawn as it is saved, half of them on a second core where possible
    return written(
        out, lambda: write_results(results, out, yaml_text, fmt, makers, two_cores=True), None
    )


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


def print_headline(summary: pd.DataFrame, out: Path, verbose: bool) -> None:
    """The run's headline (a dozen rows of the summary, 95% intervals), or with ``verbose``
    the whole summary; then where the full tables are."""
    from simulation.outputs.headline import format_headline, headline

    if verbose:
        _print_summary(summary)
        return
    replications = int(summary["n"].max()) if len(summary) else 0
    print(f"Headline (mean and 95% interval over {replications} replications):")
    print("\n".join(format_headline(headline(summary))))
    print(f"Every outcome: {out}/summary.csv (per replication: outcomes.csv); --verbose prints it")


def _print_summary(summary: pd.DataFrame) -> None:
    import pandas as pd

    from simulation.outputs.summary import DAY_UNIT

    table = summary.copy()
    for col in ("mean", "ci_low", "ci_high"):
        table[col] = table[col].round(2)
    table["mean_date"] = table["mean_date"].dt.strftime("%Y-%m-%d").fillna("")
    never = (table["unit"] == DAY_UNIT) & (table["n"] == 0)
    table.loc[never, "mean_date"] = "not reached"
    cols = [
        "outcome", "crossing", "stage", "group", "mode", "mean", "ci_low", "ci_high", "unit",
        "mean_date",
    ]  # fmt: skip
    with pd.option_context("display.max_rows", 500, "display.width", 160):
        print(table[cols].to_string(index=False))
