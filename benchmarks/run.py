"""repatsim benchmarks: every figure beside a naive SimPy model timed in the same run.

Run from the repository root::

    .venv/bin/python benchmarks/run.py            # full benchmark (~8 minutes on 2 idle cores)
    .venv/bin/python benchmarks/run.py --quick    # smoke version (~1 minute), writes quick.json
    .venv/bin/python benchmarks/run.py --only 2 5 # some sections; --repeats N for more runs

Every figure is the median of ``--repeats`` runs (default 3), each in a fresh process, so each
peak RSS is that run's own. Wall time and CPU time are both reported: other processes may share
the machine, and CPU time is the steadier of the two (the load average is printed with every
run). MB = 10**6 bytes. Results are printed and written as JSON to
``benchmarks/results/latest.json``; ``benchmarks/results/latest.txt`` keeps the printed report.

Sections:

1. The reference: a naive SimPy M/M/10 model serving 1,000,000 customers (a
   ``simpy.Resource`` and one process per customer, rho = 0.98).
2. ``repatsim run scenarios/benchmark_fullscale.yaml --replications 1`` (2.5 million persons,
   365 days) end to end through the command line: start-up, model, frames, CSV and plots, as a
   ratio of the reference; then the same steps timed one by one in one process.
3. The default scenario (``torkham_2025_acc.yaml``): model plus frames per replication, one core.
4. ``repatsim --help`` and ``repatsim validate`` (start-up with lazy imports).
5. Cost against population: the model at 10%, 100% and 300% of full scale, time and memory
   per household.
6. 100 replications of the default scenario on 2 worker processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's simulation/, not an installed copy
    sys.path.insert(0, str(ROOT))
FULLSCALE = ROOT / "scenarios" / "benchmark_fullscale.yaml"
DEFAULT = ROOT / "scenarios" / "torkham_2025_acc.yaml"
OUT = ROOT / "benchmarks" / "results" / "latest.json"
SEED = 20250101

# targets (issue 10)
TARGET_CLI_OVER_NAIVE = 0.45
TARGET_PEAK_MB = 500.0
TARGET_DEFAULT_S = 0.5
TARGET_STARTUP_S = 0.4


# ----------------------------------------------------------------------------- helpers
def median(values: list[float]) -> float:
    return float(statistics.median(values))


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM; ru_maxrss survives exec on Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, library versions, load and the repository commit."""
    cpu = "unknown"
    for line in (
        Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    ):
        if line.startswith("model name"):
            cpu = line.partition(":")[2].strip()
            break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return {
        "cpu_model": cpu,
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(mem, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "simpy": version("simpy"),
        "numpy": version("numpy"),
        "pandas": version("pandas"),
        "repatsim_commit": _git("rev-parse", "--short", "HEAD"),
        "repatsim_dirty": bool(_git("status", "--porcelain", "--", "simulation")),
        "engine": engine_in_use(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }  # fmt: skip


def engine_in_use() -> str:
    """Which fast engine the runs take: the compiled one, or the pure-Python one and why."""
    from simulation.engine.stages.loop import compiled_engine

    if compiled_engine() is None:
        return "pure Python (the compiled engine is not built: run make setup)"
    if os.environ.get("REPATSIM_ENGINE", "").lower() == "python":
        return "pure Python (REPATSIM_ENGINE=python)"
    return "compiled (simulation/engine/stages/_cloop.pyx)"


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def scaled(scenario: Any, fraction: float) -> Any:
    """The scenario with every population's persons times ``fraction``."""
    if fraction == 1.0:
        return scenario
    pops = {
        g: p.model_copy(update={"persons": round(p.persons * fraction)})
        for g, p in scenario.populations.items()
    }
    return scenario.model_copy(update={"populations": pops})


def fullscale_args(fraction: float) -> list[str]:
    """``--set`` overrides scaling the full-scale scenario's populations (for the CLI)."""
    if fraction == 1.0:
        return []
    sizes = {"undocumented": 1_000_000, "acc": 900_000, "por": 600_000}
    return [f"--set=populations.{g}.persons={round(n * fraction)}" for g, n in sizes.items()]


# ----------------------------------------------------------------------------- child runs
def naive_simpy(customers: int, servers: int = 10, rho: float = 0.98, seed: int = 1) -> None:
    """The reference: an M/M/c queue written the textbook SimPy way."""
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)
    mean_service = 6.0
    rate = rho * servers / mean_service

    def customer(service: float) -> Any:
        with desk.request() as request:
            yield request
            yield env.timeout(service)

    def arrivals() -> Any:
        for _ in range(customers):
            yield env.timeout(rng.expovariate(rate))
            env.process(customer(rng.expovariate(1 / mean_service)))

    env.process(arrivals())
    env.run()


def parts(spec: dict[str, Any]) -> dict[str, float]:
    """The steps of ``repatsim run`` timed one by one (seconds of CPU time each)."""
    clock: dict[str, float] = {}
    mark = [time.process_time()]

    def lap(name: str) -> None:
        now = time.process_time()
        clock[name] = now - mark[0]
        mark[0] = now

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from simulation.engine.run import run_model
    from simulation.outputs.registry import assemble_frames, build_frames
    from simulation.plots import policy_events, standard_figures
    from simulation.results import Results, write_results
    from simulation.scenario import load_scenario, scenario_to_yaml

    lap("start-up")
    scenario = scaled(load_scenario(FULLSCALE), spec["fraction"])
    lap("scenario")
    raw = run_model(scenario, SEED)
    lap("model")
    built = build_frames(raw, 0)
    del raw
    results = Results(**assemble_frames([built], scenario.calendar.start), manifest={})
    lap("frames")
    with tempfile.TemporaryDirectory() as tmp:
        write_results(results, Path(tmp) / "out", scenario_to_yaml(scenario), "csv", None)
        lap("csv")
        figures = standard_figures(
            results.daily_stage,
            results.returns,
            results.stocks,
            events=policy_events(scenario),
            who_waits=results.who_waits,
        )  # as the command line
        for name, figure in figures.items():
            figure.savefig(Path(tmp) / f"{name}.png", dpi=120, bbox_inches="tight")
            plt.close(figure)
        lap("plots")
    return clock


def default_replications(spec: dict[str, Any]) -> dict[str, float]:
    """Model and frames of ``spec['replications']`` replications of the default scenario."""
    from simulation.engine.run import run_model
    from simulation.experiments.replications import replication_seeds
    from simulation.outputs.registry import build_frames
    from simulation.scenario import load_scenario

    scenario = load_scenario(DEFAULT)
    model = frames = 0.0
    for replication, seed in enumerate(replication_seeds(SEED, spec["replications"])):
        started = time.process_time()
        raw = run_model(scenario, seed)
        between = time.process_time()
        build_frames(raw, replication)
        model += between - started
        frames += time.process_time() - between
    n = spec["replications"]
    return {"model_s": model / n, "frames_s": frames / n, "per_replication_s": (model + frames) / n}


def model_only(spec: dict[str, Any]) -> dict[str, float]:
    """One full-scale model run at a share of the population."""
    from simulation.engine.run import run_model
    from simulation.scenario import load_scenario

    scenario = scaled(load_scenario(FULLSCALE), spec["fraction"])
    base = peak_rss_mb()
    started = time.process_time()
    raw = run_model(scenario, SEED)
    return {
        "cpu_s": time.process_time() - started,
        "base_rss_mb": base,
        "households": len(raw.sizes),
        "journeys": len(raw.exits["hh"]),
        "stage_visits": sum(len(log["hh"]) for log in raw.stage_logs.values()),
        "events": raw.events,
    }


def many_replications(spec: dict[str, Any]) -> dict[str, float]:
    """``run_replications`` of the default scenario on ``spec['workers']`` processes."""
    from simulation import load_scenario, run_replications

    scenario = load_scenario(DEFAULT)
    results = run_replications(scenario, spec["replications"], SEED, workers=spec["workers"])
    return {"replications": results.manifest["replications"]}


CHILDREN = {
    "naive": lambda spec: naive_simpy(spec["customers"]) or {},  # type: ignore[func-returns-value]
    "parts": parts,
    "default": default_replications,
    "model": model_only,
    "replications": many_replications,
}


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement here; add its wall time, peak RSS and the load."""
    started = time.perf_counter()
    out = dict(CHILDREN[spec["kind"]](spec))
    out.update(wall_s=time.perf_counter() - started)
    out.update(peak_rss_mb=peak_rss_mb(), load_1min=os.getloadavg()[0])
    return out


# ----------------------------------------------------------------------------- parents
def fresh(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd`` in a fresh process; its wall time and output."""
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{done.stderr}")
    return {"wall_s": time.perf_counter() - started, "stdout": done.stdout}


def in_child(spec: dict[str, Any]) -> dict[str, Any]:
    """:func:`child` in a fresh interpreter (wall time from outside, so start-up counts)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    run = fresh(cmd)
    result: dict[str, Any] = json.loads(run["stdout"].strip().splitlines()[-1])
    result["inner_wall_s"], result["wall_s"] = result["wall_s"], run["wall_s"]
    return result


def repeated(label: str, spec: dict[str, Any], repeats: int) -> dict[str, Any]:
    """``repeats`` fresh runs of ``spec``: every sample and the median of each number."""
    samples = []
    for i in range(repeats):
        sample = in_child(spec)
        samples.append(sample)
        print(
            f"    {label} {i + 1}/{repeats}: {sample['wall_s']:.2f} s wall, "
            f"{sample['cpu_s']:.2f} s CPU, peak {sample['peak_rss_mb']:.0f} MB "
            f"(load {sample['load_1min']:.1f})",
            flush=True,
        )
    keys = [k for k, v in samples[0].items() if isinstance(v, int | float)]
    return {"median": {k: median([s[k] for s in samples]) for k in keys}, "samples": samples}


def cli(spec: dict[str, Any]) -> dict[str, Any]:
    """``repatsim ARGS`` in this (fresh) process: CPU time since the process started."""
    from simulation.cli import main

    try:
        status = main(spec["args"])
    except SystemExit as stop:  # --help
        status = int(stop.code or 0)
    assert status == 0, f"repatsim {spec['args']} exited {status}"
    return {}


CHILDREN["cli"] = cli


def process_cpu_s() -> float:
    """CPU seconds since this process started (start-up included)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


# ----------------------------------------------------------------------------- sections
def reference(args: argparse.Namespace) -> dict[str, Any]:
    print(f"\n[1] reference: naive SimPy M/M/10, {args.customers:,} customers", flush=True)
    run = repeated("naive SimPy", {"kind": "naive", "customers": args.customers}, args.repeats)
    m = run["median"]
    print(f"  naive SimPy: {m['wall_s']:.2f} s wall, {m['cpu_s']:.2f} s CPU")
    return {"customers": args.customers, **run}


def end_to_end(args: argparse.Namespace, naive: dict[str, float]) -> dict[str, Any]:
    frac = args.fraction
    print(f"\n[2] repatsim run {FULLSCALE.name} --replications 1 (population x {frac:g})")
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["run", str(FULLSCALE), "--replications", "1", "--seed", str(SEED), "--quiet",
                "--out", str(Path(tmp) / "out"), *fullscale_args(frac)]  # fmt: skip
        run = repeated("command line", {"kind": "cli", "args": argv}, args.repeats)
    steps = repeated("step by step", {"kind": "parts", "fraction": frac}, args.repeats)
    m = run["median"]
    ratio = {"wall": m["wall_s"] / naive["wall_s"], "cpu": m["cpu_s"] / naive["cpu_s"]}
    print(
        f"  end to end: {m['wall_s']:.2f} s wall, {m['cpu_s']:.2f} s CPU, peak RSS "
        f"{m['peak_rss_mb']:.0f} MB; {ratio['wall']:.2f}x the naive SimPy model by wall time, "
        f"{ratio['cpu']:.2f}x by CPU time (target <= {TARGET_CLI_OVER_NAIVE}x, "
        f"<= {TARGET_PEAK_MB:.0f} MB)"
    )
    names = ["start-up", "scenario", "model", "frames", "csv", "plots"]
    s = steps["median"]
    print("  steps (CPU s): " + ", ".join(f"{n} {s[n]:.2f}" for n in names))
    return {"command_line": run, "steps": steps, "over_naive": ratio}


def default_scenario(args: argparse.Namespace) -> dict[str, Any]:
    n = args.default_replications
    print(f"\n[3] {DEFAULT.name}: model + frames per replication ({n} per run, one core)")
    run = repeated("default", {"kind": "default", "replications": n}, args.repeats)
    m = run["median"]
    print(
        f"  per replication: {m['per_replication_s']:.2f} s CPU (model {m['model_s']:.2f}, "
        f"frames {m['frames_s']:.2f}; target <= {TARGET_DEFAULT_S} s)"
    )
    return run


def start_up(args: argparse.Namespace) -> dict[str, Any]:
    print("\n[4] start-up: repatsim --help and repatsim validate")
    out = {}
    for label, argv in (("--help", ["--help"]), ("validate", ["validate", str(DEFAULT)])):
        out[label] = repeated(label, {"kind": "cli", "args": argv}, args.repeats)
        m = out[label]["median"]
        print(f"  repatsim {label}: {m['wall_s']:.2f} s wall, {m['cpu_s']:.2f} s CPU "
              f"(target <= {TARGET_STARTUP_S} s)")  # fmt: skip
    return out


def scaling(args: argparse.Namespace) -> dict[str, Any]:
    print("\n[5] cost against population (model only, fresh process per run)")
    rows = []
    for share in args.scales:
        spec = {"kind": "model", "fraction": share * args.fraction}
        m = repeated(f"{share:.0%} population", spec, args.repeats)["median"]
        n = m["households"]
        per_household = {
            "us_per_household": 1e6 * m["cpu_s"] / n,
            "bytes_per_household": 1e6 * (m["peak_rss_mb"] - m["base_rss_mb"]) / n,
        }
        rows.append({"share": share, **m, **per_household})
    print("  population  households  stage visits   CPU s  peak MB  us/household  bytes/household")
    for r in rows:
        print(
            f"  {r['share']:9.0%} {r['households']:11,.0f} {r['stage_visits']:13,.0f} "
            f"{r['cpu_s']:7.2f} {r['peak_rss_mb']:8.0f} {r['us_per_household']:13.1f} "
            f"{r['bytes_per_household']:16.0f}"
        )
    return {"rows": rows}


def workers(args: argparse.Namespace) -> dict[str, Any]:
    n = args.replications
    print(f"\n[6] {n} replications of {DEFAULT.name} on 2 worker processes")
    spec = {"kind": "replications", "replications": n, "workers": 2}
    run = repeated("2 workers", spec, args.repeats)
    m = run["median"]
    print(f"  {n} replications: {m['wall_s']:.1f} s wall ({m['wall_s'] / n:.2f} s each), "
          f"{m['cpu_s']:.1f} s CPU in all")  # fmt: skip
    return run


# ----------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short smoke version (small sizes)")
    p.add_argument("--repeats", type=int, help="runs per figure (median); default 3, quick 1")
    p.add_argument("--out", type=Path, help="JSON output (default results/latest.json)")
    p.add_argument("--only", type=int, nargs="*", choices=range(1, 7), help="these sections")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.out = args.out or (OUT.with_name("quick.json") if args.quick else OUT)
    args.fraction = 0.05 if args.quick else 1.0  # the share of the full scale called 100%
    args.customers = 50_000 if args.quick else 1_000_000
    args.scales = [0.1, 1.0, 3.0]
    args.default_replications = 2 if args.quick else 5
    args.replications = 6 if args.quick else 100
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        result = child(json.loads(args.child))
        # CPU since the process started (start-up counts), unless the run timed its own part
        result.setdefault("cpu_s", process_cpu_s())
        print(json.dumps(result))
        return 0
    info = machine()
    print("repatsim benchmark" + (" (--quick smoke run)" if args.quick else ""))
    print(f"machine: {info['cpu_model']}, {info['logical_cores']} logical cores "
          f"({info['usable_cores']} usable), {info['memory_gb']} GB")  # fmt: skip
    print(f"software: Python {info['python']}, SimPy {info['simpy']}, numpy {info['numpy']}, "
          f"pandas {info['pandas']}; repatsim {info['repatsim_commit']}"
          + (" (simulation/ modified)" if info["repatsim_dirty"] else ""))  # fmt: skip
    print(f"fast engine: {info['engine']}")
    print(f"load average at start: {info['load_average_start']}; medians of {args.repeats} run(s); "
          "CPU time is the steadier figure on a shared machine")  # fmt: skip
    started = time.perf_counter()
    sections = set(args.only or range(1, 7))
    report: dict[str, Any] = {
        "generated": dt.datetime.now().isoformat(timespec="seconds"),
        "quick": args.quick,
        "repeats": args.repeats,
        "machine": info,
    }
    if sections & {1, 2}:
        report["reference"] = reference(args)
    if 2 in sections:
        report["end_to_end"] = end_to_end(args, report["reference"]["median"])
    for number, key, section in ((3, "default", default_scenario), (4, "start_up", start_up),
                                 (5, "scaling", scaling), (6, "workers", workers)):  # fmt: skip
        if number in sections:
            report[key] = section(args)
    info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    report["total_wall_s"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nload average at end: {info['load_average_end']}; "
          f"total {report['total_wall_s']:.0f} s; wrote {args.out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
