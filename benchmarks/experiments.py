"""Benchmarks of the experiment layer, and the answers to the two user questions it serves.

Run from the repository root::

    .venv/bin/python benchmarks/experiments.py            # ~6 minutes on 2 idle cores
    .venv/bin/python benchmarks/experiments.py --quick    # smoke version (~1 minute)

It prints, and writes to ``benchmarks/results/experiments.json``:

1. ``experiments/acc_deadline_extension.yaml`` (baseline, +15 and +30 days; 3 arms x 20
   replications of the default scenario) on 1 local worker, 2 local workers and a 2-worker Dask
   ``LocalCluster``: wall and CPU time, and the same frames from each (checked).
2. The Dask runner's overhead per run: the same small runs on 2 local workers and on the
   2-worker LocalCluster (cluster start-up timed apart).
3. ``size`` on Torkham's reception stage (``p95_wait_hours<=2``, then the worst day's p95): the
   runs its search made against the runs of a plain scan from 1 server to the answer.

Each figure is from one run (these take minutes each); the machine's load is printed beside
them: on a shared machine, CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from simulation.experiments.compare import compare_arms  # noqa: E402
from simulation.experiments.files import load_experiment  # noqa: E402
from simulation.experiments.runners import DaskRunner, LocalRunner, Runner  # noqa: E402
from simulation.experiments.sizing import size  # noqa: E402
from simulation.scenario import load_scenario  # noqa: E402

EXPERIMENT = ROOT / "experiments" / "acc_deadline_extension.yaml"
DEFAULT = ROOT / "scenarios" / "torkham_2025_acc.yaml"


def _timed(work: Any) -> tuple[Any, float, float]:
    """Run ``work()``; return its value, wall seconds and CPU seconds of this process tree."""
    wall, cpu = time.perf_counter(), _cpu()
    value = work()
    return value, time.perf_counter() - wall, _cpu() - cpu


def _cpu() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def compare_runs(replications: int) -> dict[str, Any]:
    """Section 1: the 3-arm comparison on each runner; frames must be equal."""
    experiment = load_experiment(EXPERIMENT)
    arms = {"baseline": experiment.arm([])}
    arms |= {name: experiment.arm(o) for name, o in experiment.variants.items()}
    out: dict[str, Any] = {"arms": len(arms), "replications": replications}
    frames = {}
    runners: list[tuple[str, Any]] = [
        ("local, 1 worker", lambda: LocalRunner(1)),
        ("local, 2 workers", lambda: LocalRunner(2)),
        ("dask LocalCluster, 2 workers", lambda: DaskRunner("local", workers=2)),
    ]
    for label, make in runners:
        runner: Runner = make()
        try:
            result, wall, cpu = _timed(
                lambda r=runner: compare_arms(arms, replications, experiment.spec.seed, r)
            )
        finally:
            runner.close()
        frames[label] = result
        out[label] = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "load": _load()}
        cpu_text = "" if label.startswith("dask") else f", {cpu:.1f} s CPU"  # workers not ours
        print(f"compare {len(arms)} arms x {replications} reps, {label}: {wall:.1f} s wall"
              f"{cpu_text} (load {_load()})")  # fmt: skip
    first = next(iter(frames.values()))
    for label, result in frames.items():
        pd.testing.assert_frame_equal(first.differences, result.differences, obj=label)
    out["same_frames_on_every_runner"] = True
    out["answer"] = _deadline_answer(first.differences)
    return out


def _deadline_answer(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The analyst's question: deportations by group and in total, with paired intervals."""
    rows = table[(table["outcome"] == "persons_returned") & (table["mode"] == "deported")]
    answer = []
    for row in rows.to_dict("records"):
        answer.append({k: row[k] for k in ("variant", "group", "base_mean", "difference",
                                           "ci_low", "ci_high", "correlation",
                                           "pairing_narrows")})  # fmt: skip
        print(f"  {row['variant']:<7} deported {row['group']:<13} {row['difference']:+10,.0f} "
              f"[{row['ci_low']:+,.0f}, {row['ci_high']:+,.0f}] (baseline {row['base_mean']:,.0f};"
              f" r = {row['correlation']:.2f})")  # fmt: skip
    return answer


def dask_overhead(runs: int) -> dict[str, Any]:
    """Section 2: per-run overhead of the Dask runner over local processes (same tasks)."""
    from simulation.experiments.compare import arm_outcomes

    scenario = load_scenario(ROOT / "scenarios" / "textbook_mmc.yaml", ["calendar.end=2025-01-03"])
    tasks = [("a", scenario, 1000 + i, i) for i in range(runs)]
    local = LocalRunner(2)
    _, local_wall, _ = _timed(lambda: list(local.map(arm_outcomes, tasks)))
    started = time.perf_counter()
    cluster = DaskRunner("local", workers=2)
    startup = time.perf_counter() - started
    try:
        list(cluster.map(arm_outcomes, tasks[:4]))  # warm the workers' imports
        _, dask_wall, _ = _timed(lambda: list(cluster.map(arm_outcomes, tasks)))
    finally:
        cluster.close()
    per_run_ms = 1000 * (dask_wall - local_wall) / runs
    print(
        f"dask overhead: {runs} runs, local 2 workers {local_wall:.2f} s, LocalCluster "
        f"{dask_wall:.2f} s: {per_run_ms:+.1f} ms per run (cluster start-up {startup:.1f} s)"
    )
    return {"runs": runs, "local_s": round(local_wall, 2), "dask_s": round(dask_wall, 2),
            "overhead_ms_per_run": round(per_run_ms, 1),
            "startup_s": round(startup, 1)}  # fmt: skip


def size_runs(replications: int, quick: bool) -> dict[str, Any]:
    """Section 3: runs of the sizing search against a plain scan 1..answer."""
    overrides = ["calendar.end=2025-04-20"] if quick else []
    scenario = load_scenario(DEFAULT, overrides)
    out = {}
    for target in ("p95_wait_hours<=2", "worst_day_p95_wait_hours<=2"):
        runner = LocalRunner(2)
        result, wall, _ = _timed(lambda t=target, r=runner: size(
            scenario, "torkham", "reception", t, 0.9, replications, seed=7, max_servers=64,
            runner=r))  # fmt: skip
        searched = len(result.evidence) * replications
        scan = (result.servers or 64) * replications
        out[target] = {"servers": result.servers, "runs": searched, "scan_runs": scan,
                       "wall_s": round(wall, 1), "tried": result.evidence["servers"].tolist(),
                       "note": result.note}  # fmt: skip
        print(f"size torkham.reception {target}: {result.servers} desks; {searched} runs "
              f"(counts tried {result.evidence['servers'].tolist()}) against {scan} for a scan "
              f"from 1; {wall:.0f} s on 2 workers")  # fmt: skip
        print(result.evidence.to_string(index=False))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke version")
    args = parser.parse_args()
    replications = 3 if args.quick else 20
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load {_load()}"
    )
    figures = {
        "compare": compare_runs(replications),
        "dask_overhead": dask_overhead(20 if args.quick else 100),
        "size": size_runs(3 if args.quick else 10, args.quick),
    }
    name = "experiments-quick.json" if args.quick else "experiments.json"
    path = ROOT / "benchmarks" / "results" / name
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
