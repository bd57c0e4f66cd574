"""``repatsim compare`` and ``repatsim size``: a thin layer over the experiment API."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.cli.args import EXIT_WRITE_FAILED, UsageError, written
from simulation.cli.run import warn_shadowed
from simulation.folders import check_destination, write_folder
from simulation.scenario import load_scenario
from simulation.scenario.errors import printable

EXIT_TARGET_NOT_MET = 1
HEADLINE_ROWS = 12


def compare_command(args: argparse.Namespace) -> int:
    """Run an experiment file's baseline and variants; write and print paired differences."""
    from simulation.experiments.compare import compare_arms, headline
    from simulation.experiments.files import load_experiment
    from simulation.experiments.runners import runner_for

    experiment = load_experiment(args.experiment)
    if not experiment.variants:
        raise UsageError(f"{args.experiment}: has no variants to compare (a sweep? use sweep)")
    out = Path(args.out) if args.out else Path("results") / experiment.spec.name
    check_destination(out)
    arms = {"baseline": experiment.arm([])}
    arms |= {name: experiment.arm(o) for name, o in experiment.variants.items()}
    replications = args.replications or experiment.spec.replications
    seed = experiment.spec.seed if args.seed is None else args.seed
    with runner_for(args.workers, args.dask) as runner:
        result = compare_arms(arms, replications, seed, runner, not args.quiet,
                              experiment.spec.outcomes)  # fmt: skip
    result.manifest |= {"experiment": str(args.experiment), "variants": experiment.variants,
                        "set": experiment.spec.set}  # fmt: skip
    tables = {"differences": result.differences, "outcomes": result.outcomes}
    if not _write_tables(out, tables, result.manifest, _difference_figure(result.differences)):
        return EXIT_WRITE_FAILED
    if not args.quiet:
        print_differences(headline(result.differences, HEADLINE_ROWS), replications)
    print(f"wrote {out}/ (differences.csv: every outcome; outcomes.csv: every replication)")
    return 0


def print_differences(table: pd.DataFrame, replications: int) -> None:
    """The headline differences, one line each, with paired intervals and pairing notes."""
    if table.empty:
        print("No outcome differs from the baseline with 95% confidence.")
        return
    print(f"Largest clear differences (variant - baseline, paired 95% CI, n = {replications}):")
    for row in table.to_dict("records"):
        keys = "/".join(str(row[k]) for k in ("crossing", "stage", "group", "mode") if row[k])
        note = ""
        if not row["pairing_narrows"]:
            why = "arms anti-correlated" if row["correlation"] < 0 else "no gain from pairing"
            note = f"  (pairing does not narrow the interval: {why})"
        low, high = _num(row["ci_low"], True), _num(row["ci_high"], True)
        print(
            f"  {row['variant']:<10} {row['outcome']}[{keys}]: {_num(row['difference'], True)} "
            f"[{low}, {high}] {row['unit']} (baseline {_num(row['base_mean'])}){note}"
        )


def _num(value: float, signed: bool = False) -> str:
    """A number for the terminal: thousands separators, three significant digits if small."""
    sign = "+" if signed else ""
    return f"{value:{sign},.1f}" if abs(value) >= 10 else f"{value:{sign}.3g}"


def sweep_command(args: argparse.Namespace) -> int:
    """Run an experiment file's design (levers x uncertainties x replications), resumably."""
    from simulation.experiments.files import load_experiment
    from simulation.experiments.runners import runner_for
    from simulation.experiments.sweep import sweep

    experiment = load_experiment(args.experiment)
    levers, uncertainties = experiment.sweep_arguments()
    if not levers and not uncertainties:
        raise UsageError(f"{args.experiment}: has no levers or uncertainties (use compare)")
    out = Path(args.out) if args.out else Path("results") / experiment.spec.name
    spec = experiment.spec
    try:
        with runner_for(args.workers, args.dask) as runner:
            frame = sweep(experiment.scenario_path, levers, uncertainties, spec.samples,
                          args.replications or spec.replications,
                          spec.seed if args.seed is None else args.seed, out, args.resume,
                          runner, not args.quiet, spec.set)  # fmt: skip
    except KeyboardInterrupt:
        print(f"interrupted: finished runs are kept in {out}/; run again with --resume",
              file=sys.stderr)  # fmt: skip
        return 130
    done = frame.attrs["sweep"]
    print(f"sweep: {done['points']} points x {done['replications']} replications = "
          f"{len(frame)} runs ({done['resumed']} resumed, {done['executed']} run now); "
          f"wrote {out}/experiments.parquet")  # fmt: skip
    return 0


def size_command(args: argparse.Namespace) -> int:
    """Find the smallest server count at a stage meeting a target; exit 1 if none does."""
    from simulation.experiments.runners import runner_for
    from simulation.experiments.sizing import parse_target, size

    crossing, _, stage = args.stage.partition(".")
    scenario = load_scenario(args.scenario, args.overrides)
    warn_shadowed(scenario, args.overrides)
    try:
        target = parse_target(args.target)
        if crossing not in scenario.crossings or stage not in scenario.crossings[crossing].stages:
            stages = [f"{c}.{s}" for c, x in scenario.crossings.items() for s in x.stages]
            raise ValueError(f"--stage {args.stage}: no such stage; expected one of: "
                             + ", ".join(stages))  # fmt: skip
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    out = (
        Path(args.out) if args.out else Path("results") / f"{scenario.name}-size-{crossing}.{stage}"
    )
    check_destination(out)
    replications = args.replications or scenario.run.replications
    seed = scenario.run.seed if args.seed is None else args.seed
    with runner_for(args.workers, args.dask) as runner:
        result = size(scenario, crossing, stage, target, args.probability, replications, seed,
                      args.max, args.scale, runner, not args.quiet)  # fmt: skip
    _print_sizing(result, args.stage)
    figures = _sizing_figure(result)
    if not _write_tables(out, {"sizing": result.evidence}, result.manifest, figures):
        return EXIT_WRITE_FAILED
    print(f"wrote {out}/")
    return 0 if result.servers is not None else EXIT_TARGET_NOT_MET


def _print_sizing(result: Any, stage: str) -> None:
    print(printable(f"Note: {result.note}"))
    print(f"Target {result.target} in at least {result.probability:.0%} of replications:")
    for row in result.evidence.to_dict("records"):
        mark = "meets" if row["meets_target"] else "fails"
        print(
            f"  {row['servers']:>4} servers: met in {row['met']} of {row['replications']} "
            f"({mark}); mean {row['mean']:,.2f}, worst {row['worst']:,.2f}; "
            f"worst day p95 wait {row['worst_day_p95_wait_hours']:,.2f} h"
        )
    if result.servers is None:
        most = int(result.evidence["servers"].max())
        print(f"The target is not met with up to {most} servers at {stage} (raise --max?).")
    else:
        print(f"Answer: {result.servers} servers at {stage}.")


def _sizing_figure(result: Any) -> dict[str, Any]:
    """The evidence per server count against the target (and the required share)."""
    import matplotlib

    matplotlib.use("Agg")
    from simulation.plots import plot_sizing

    target = result.target
    figure = plot_sizing(result.evidence, target.value, probability=result.probability,
                         outcome=target.outcome)  # fmt: skip
    return {"sizing": figure}


def _difference_figure(differences: pd.DataFrame) -> dict[str, Any] | None:
    """The differences plot, if the plotting layer offers one."""
    from simulation import plots

    draw = getattr(plots, "plot_differences", None)
    if draw is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    return {"differences": draw(differences)}


def _write_tables(
    out: Path,
    tables: dict[str, pd.DataFrame],
    manifest: dict[str, Any],
    figures: dict[str, Any] | None,
) -> bool:
    """Write csv tables (and figures) into ``out`` atomically; False after a one-line error."""

    def write(tmp: Path) -> list[str]:
        files = []
        for name, frame in tables.items():
            frame.to_csv(tmp / f"{name}.csv", index=False)
            files.append(f"{name}.csv")
        for name, figure in (figures or {}).items():
            (tmp / "plots").mkdir(exist_ok=True)
            figure.savefig(tmp / "plots" / f"{name}.png", dpi=120, bbox_inches="tight")
            files.append(f"plots/{name}.png")
        return files

    return written(out, lambda: write_folder(out, write, manifest), figures)
