"""``repatsim calibrate CALIBRATION.yaml``: fit a scenario's parameters to observed figures.

Minimises the (weighted) mean ARD of ``repatsim score`` over the parameters the calibration file
names, on common random numbers, and writes the fitted scenario, ``parameters.csv``,
``evaluations.csv``, the fitted scenario's ``score.csv``/``skipped.csv`` and plots."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Any

from simulation.cli.args import EXIT_WRITE_FAILED, UsageError, add_runner, whole

FITTED = "fitted_scenario.yaml"


def add_calibrate_parser(sub: argparse._SubParsersAction) -> None:
    """The ``calibrate`` command and its arguments."""
    cal = sub.add_parser(
        "calibrate", help="fit a scenario's parameters to observed returns (least mean ARD)"
    )
    cal.add_argument("calibration", help="calibration YAML file")
    cal.add_argument("--out", help="output folder (default results/<scenario name>-calibrate/)")
    cal.add_argument("--max-evaluations", type=whole(1, 10_000, "from 1 to 10000"),
                     help="override the file's optimizer.max_evaluations")  # fmt: skip
    add_runner(cal)
    cal.add_argument("--quiet", "-q", action="store_true", help="no progress bar or table")


def calibrate_command(args: argparse.Namespace) -> int:
    """Fit, print before and after, write the folder; exit 2 (one line) for a bad file."""
    from simulation.calibration.calibrate import CalibrationError, calibrate
    from simulation.calibration.fitfile import load_calibration
    from simulation.cli.run import default_out
    from simulation.experiments.runners import runner_for
    from simulation.folders import check_destination

    calibration = load_calibration(args.calibration)
    name = calibration.arm({}).name
    out = Path(args.out) if args.out else default_out(f"{name}-calibrate", calibration.spec.set)
    check_destination(out)  # refuse before fitting, not after
    try:
        with runner_for(args.workers, args.dask) as runner:
            fit = calibrate(calibration, runner, not args.quiet, args.max_evaluations)
    except CalibrationError as exc:
        raise UsageError(str(exc)) from None
    if not args.quiet:
        _print_fit(fit)
    if not _write(out, fit, _manifest(args, fit)):
        return EXIT_WRITE_FAILED
    print(f"wrote {out}/ ({FITTED}, parameters.csv, evaluations.csv, score.csv, plots/)")
    return 0


def _print_fit(fit: Any) -> None:
    """The fitted scenario's figures (as ``score`` prints them), the loss before and after and
    each parameter's start and fitted values."""
    from simulation.cli.score import print_score

    cal = fit.calibration
    print_score(fit.best.fit, cal.observed_path, cal.spec.replications)
    loss = "mean ARD" if cal.spec.loss == "mean_ard" else "weighted mean ARD"
    print(f"Fitted {len(fit.figures)} figures of series {cal.spec.observed.series}: {loss} "
          f"{fit.start.loss:.4f} at the start -> {fit.best.loss:.4f} fitted (evaluation "
          f"{fit.best.number} of {len(fit.evaluations)}; {cal.spec.optimizer.method}: "
          f"{fit.message})")  # fmt: skip
    print(f"Mean ARD over every compared figure: {fit.start.fit.mean_ard:.4f} -> "
          f"{fit.best.fit.mean_ard:.4f}")  # fmt: skip
    for row in fit.parameters().itertuples(index=False):
        print(f"  {row.name}: {row.start:g} -> {row.fitted:g}  (bounds {row.low:g}..{row.high:g}"
              f"{', log' if row.scale == 'log' else ''})")  # fmt: skip


def fitted_yaml(fit: Any, calibration_file: str) -> str:
    """The fitted scenario as a standalone YAML file (every default filled in), named
    ``<name>_fitted``, under a header saying how it was fitted."""
    from simulation.scenario.load import scenario_to_yaml

    cal, spec = fit.calibration, fit.calibration.spec
    scenario = fit.scenario
    fitted = scenario.model_copy(update={"name": f"{scenario.name[:72]}_fitted"})
    window = f"from {spec.observed.start or 'the start'} until {spec.observed.until or 'the end'}"
    lines = [
        f"Fitted by repatsim calibrate {calibration_file}",
        f"from {cal.scenario_path.name} with {len(spec.set)} --set override(s), to "
        f"{len(fit.figures)} figures of series {spec.observed.series} of "
        f"{cal.observed_path.name} ({window})",
        f"{spec.replications} replications per evaluation, seed {spec.seed} (common random "
        f"numbers), {spec.optimizer.method}, {len(fit.evaluations)} evaluations",
        f"loss {fit.start.loss:.6f} at the start -> {fit.best.loss:.6f} fitted (score this file "
        f"with -n {spec.replications} --seed {spec.seed} to reproduce it)",
        *[f"  {p.path}: {p.start:g} -> {fit.best.values[p.path]!r}" for p in cal.parameters],
    ]
    header = "".join(f"# {line}\n" for line in lines)
    return header + scenario_to_yaml(fitted)


def _manifest(args: argparse.Namespace, fit: Any) -> dict[str, Any]:
    from simulation.experiments.replications import replication_seeds

    cal = fit.calibration
    spec = cal.spec
    return {
        "kind": "calibrate", "calibration_file": str(args.calibration),
        "calibration_sha256": _sha256(Path(args.calibration)),
        "scenario_file": str(cal.scenario_path), "scenario_sha256": _sha256(cal.scenario_path),
        "observed_file": str(cal.observed_path), "observed_sha256": _sha256(cal.observed_path),
        "series": spec.observed.series, "from": spec.observed.start,
        "until": spec.observed.until, "replications": spec.replications,
        "master_seed": spec.seed, "method": spec.optimizer.method,
        "evaluations": len(fit.evaluations), "optimizer_message": fit.message,
        "figures_fitted": fit.figures, "loss_start": fit.start.loss, "loss_fitted": fit.best.loss,
        "fitted": fit.best.values,
        "replication_seeds": replication_seeds(spec.seed, spec.replications),
    }  # fmt: skip


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(out: Path, fit: Any, manifest: dict[str, Any]) -> bool:
    """Write the folder atomically; False after one line if writing failed."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window from the command line
    from simulation.calibration.plots import plot_evaluations, plot_score
    from simulation.cli.args import written
    from simulation.cli.score import score_files
    from simulation.folders import write_folder

    best = fit.best.fit
    figures = {"score": plot_score(best.table, best.daily, best.curves),
               "evaluations": plot_evaluations(fit.table())}  # fmt: skip
    text = fitted_yaml(fit, str(manifest["calibration_file"]))

    def write(tmp: Path) -> list[str]:
        (tmp / FITTED).write_text(text, encoding="utf-8")
        fit.parameters().to_csv(tmp / "parameters.csv", index=False)
        fit.table().to_csv(tmp / "evaluations.csv", index=False)
        files = score_files(tmp, best, figures["score"])
        figures["evaluations"].savefig(tmp / "plots" / "evaluations.png", dpi=120,
                                       bbox_inches="tight")  # fmt: skip
        return [FITTED, "parameters.csv", "evaluations.csv", *files, "plots/evaluations.png"]

    return written(out, lambda: write_folder(out, write, manifest), figures)
