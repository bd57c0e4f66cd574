"""repatsim benchmarks: full-scale wall time and memory, stage throughput, scaling, workers.

Run from the repository root::

    .venv/bin/python benchmarks/run.py            # full benchmark (~4 minutes on 2 idle cores)
    .venv/bin/python benchmarks/run.py --quick    # smoke version (~40 s), writes quick.json
    .venv/bin/python benchmarks/run.py --only 2   # one section; --repeats N for more runs

Every figure is the median of ``--repeats`` runs (default 3) made in this one invocation. Whole
replications are measured in a fresh subprocess per run, so each peak RSS is that run's own; the
single-stage comparison runs in this process with the three formulations interleaved, so that
background load hits them alike. CPU time is reported next to wall time: on a shared machine it
is the steadier of the two (note the load averages printed with every run). MB = 10**6 bytes.
Results are printed and written as JSON to ``benchmarks/results/latest.json``.

Sections:

1. ``benchmark_fullscale.yaml`` (2.5 million persons, 365 days): wall time of ``run_model`` alone
   and of ``simulate`` (model + metrics; the metrics share is timed inside the same run), and
   peak RSS of each.
2. Household-stage visits per second on one saturated stage (c = 10, rho = 0.98, ~200,000
   households): repatsim's ``run_model`` on a direct-demand scenario, a straightforward SimPy
   model (a feeder process, one process per household, ``simpy.Resource``), and a pure-Python
   Kiefer-Wolfowitz recursion, all on the same arrival and service times (waits must agree).
   The stage is first come, first served with no waiting limit, so repatsim serves it with its
   FIFO recursion (``FifoStage``); the same run with every stage event-driven
   (``run_model(..., lookahead=False)``, what a priority stage or a finite waiting area costs)
   is timed beside it for information.
3. Scaling: wall time at 10%, 30%, 100% of the full-scale population; peak RSS at a 120-day and
   the 365-day horizon with the same population, beside the size of the raw outputs.
4. 20 replications of ``scenarios/torkham_2025_acc.yaml`` with ``run_replications`` on 1 and 2
   worker processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import heapq
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import simpy  # noqa: E402
import yaml  # noqa: E402

from simulation import (  # noqa: E402
    experiments,
    load_scenario,
    parse_scenario,
    run_replications,
    simulate,
)
from simulation.engine.records import SERVED, RawRun  # noqa: E402
from simulation.engine.run import run_model  # noqa: E402
from simulation.scenario.schema import Calendar, Scenario  # noqa: E402

FULLSCALE = ROOT / "scenarios" / "benchmark_fullscale.yaml"
DEFAULT = ROOT / "scenarios" / "torkham_2025_acc.yaml"
OUT = ROOT / "benchmarks" / "results" / "latest.json"
SEED = 20250101

# targets (see the project brief)
TARGET_WALL_S = 10.0
TARGET_PEAK_MB = 1000.0
TARGET_SPEEDUP_VS_SIMPY = 4.0
TARGET_RECURSION_RATIO = 10.0

# the saturated stage: M/M/10 with rho = 0.98
STAGE_SERVERS = 10
STAGE_SERVICE_MIN = 6.0  # mean service, minutes per household (mu = 10 per hour per server)
STAGE_RHO = 0.98


# ----------------------------------------------------------------------------- helpers
def median(values: list[float]) -> float:
    """The median of a non-empty list."""
    return float(statistics.median(values))


def _proc_status_mb(field: str) -> float | None:
    """A memory field of /proc/self/status (kB) in MB, or None where /proc is unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return None


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size so far (MB).

    For this process, VmHWM from /proc: Linux keeps ``ru_maxrss`` across ``execve``, so in a
    freshly started child it would include the parent's RSS at the fork. ``RUSAGE_CHILDREN``:
    the largest finished child (used for the worker processes, which fork without exec).
    """
    if who == resource.RUSAGE_SELF:
        hwm = _proc_status_mb("VmHWM")
        if hwm is not None:
            return hwm
    return resource.getrusage(who).ru_maxrss * 1024 / 1e6  # KiB on Linux


def cpu_s() -> float:
    """CPU seconds used by this process and its finished children (user + system)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def rss_mb() -> float:
    """Current resident set size of this process (MB), from /proc; the peak if unavailable."""
    now = _proc_status_mb("VmRSS")
    return now if now is not None else peak_rss_mb()


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, library versions, load, and the repository commit."""
    cpu, mhz = "unknown", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and cpu == "unknown":
                cpu = value.strip()
            if key.strip() == "cpu MHz" and not mhz:
                mhz = value.strip()
    except OSError:
        cpu = platform.processor() or "unknown"
    mem_gb = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) * 1024 / 1e9, 1)
    except OSError:
        pass
    return {
        "cpu_model": cpu,
        "cpu_mhz": mhz,
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "memory_gb": mem_gb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "simpy": version("simpy"),
        "numpy": np.__version__,
        "pandas": version("pandas"),
        "repatsim_commit": _git("rev-parse", "--short", "HEAD"),
        "repatsim_dirty": bool(_git("status", "--porcelain", "--", "simulation")),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def scaled(scenario: Scenario, fraction: float = 1.0, days: int | None = None) -> Scenario:
    """The scenario with every population's persons times ``fraction``, optionally shortened.

    ``model_copy`` skips validation, so dates beyond a shortened calendar (deadlines, closures)
    are simply never reached.
    """
    update: dict[str, Any] = {}
    if fraction != 1.0:
        update["populations"] = {
            g: p.model_copy(update={"persons": round(p.persons * fraction)})
            for g, p in scenario.populations.items()
        }
    if days is not None:
        start = scenario.calendar.start
        update["calendar"] = Calendar(start=start, end=start + dt.timedelta(days=days - 1))
    return scenario.model_copy(update=update) if update else scenario


def output_mb(raw: RawRun) -> float:
    """Bytes held by a run's raw records (stage logs, flows, exits, household arrays), in MB."""
    total = raw.sizes.nbytes + raw.group.nbytes + raw.mode.nbytes
    for log in raw.stage_logs.values():
        total += sum(a.nbytes for a in log.values())
    total += sum(a.nbytes for a in raw.flows.values())
    total += sum(a.nbytes for a in raw.exits.values())
    return total / 1e6


# ----------------------------------------------------------------------------- child runs
def child(spec: dict[str, Any]) -> dict[str, Any]:
    """One measurement in this (fresh) process; returns wall time and peak RSS."""
    kind = spec["kind"]
    if kind == "replications":
        scenario = load_scenario(spec["scenario"])
        base = rss_mb()
        cpu, started = cpu_s(), time.perf_counter()
        results = run_replications(
            scenario, replications=spec["replications"], seed=SEED, workers=spec["workers"]
        )
        wall, cpu = time.perf_counter() - started, cpu_s() - cpu
        return {
            "wall_s": wall,
            "cpu_s": cpu,
            "load_1min": os.getloadavg()[0],
            "base_rss_mb": base,
            "peak_rss_mb": peak_rss_mb(),
            # the largest worker process (0 when everything ran in this process)
            "worker_peak_rss_mb": peak_rss_mb(resource.RUSAGE_CHILDREN),
            "events": results.manifest["simpy_events"],
        }
    scenario = scaled(load_scenario(spec["scenario"]), spec.get("fraction", 1.0), spec.get("days"))
    model_clock = [0.0, 0.0]  # wall and CPU seconds spent in run_model inside simulate

    def timed_run_model(scenario: Scenario, seed: int) -> RawRun:
        wall, cpu = time.perf_counter(), cpu_s()
        raw = run_model(scenario, seed)
        model_clock[0] += time.perf_counter() - wall
        model_clock[1] += cpu_s() - cpu
        return raw

    # this child process only: time the model part of simulate() to split off the metrics
    experiments.run_model = timed_run_model
    gc.collect()
    base = rss_mb()
    cpu, started = cpu_s(), time.perf_counter()
    if kind == "model":
        raw = run_model(scenario, SEED)
        wall, cpu = time.perf_counter() - started, cpu_s() - cpu
        peak = peak_rss_mb()
        visits = sum(len(log["hh"]) for log in raw.stage_logs.values())
        return {
            "wall_s": wall,
            "cpu_s": cpu,
            "load_1min": os.getloadavg()[0],
            "base_rss_mb": base,
            "peak_rss_mb": peak,
            "events": raw.events,
            "households": len(raw.sizes),
            "journeys": len(raw.exits["hh"]),
            "persons_returned": int(raw.sizes[raw.exits["hh"]].sum()),
            "stage_visits": visits,
            "output_mb": output_mb(raw),
            "days": scenario.days,
        }
    if kind == "simulate":
        results = simulate(scenario, SEED)
        wall, cpu = time.perf_counter() - started, cpu_s() - cpu
        return {
            "wall_s": wall,
            "cpu_s": cpu,
            "model_wall_s": model_clock[0],
            "metrics_wall_s": wall - model_clock[0],
            "metrics_cpu_s": cpu - model_clock[1],
            "load_1min": os.getloadavg()[0],
            "base_rss_mb": base,
            "peak_rss_mb": peak_rss_mb(),
            "events": results.manifest["simpy_events"],
        }
    raise ValueError(f"unknown child kind {kind!r}")


def in_subprocess(spec: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter; its last stdout line is the JSON result."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"child {spec} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def repeated(spec: dict[str, Any], repeats: int, label: str) -> dict[str, Any]:
    """``repeats`` fresh-process runs of one spec: every sample, and the median of each field."""
    samples = []
    for i in range(repeats):
        sample = in_subprocess(spec)
        samples.append(sample)
        print(
            f"    {label} run {i + 1}/{repeats}: {sample['wall_s']:.2f} s wall, "
            f"{sample['cpu_s']:.2f} s CPU, peak {sample['peak_rss_mb']:.0f} MB "
            f"(load {sample['load_1min']:.1f})",
            flush=True,
        )
    keys = [k for k, v in samples[0].items() if isinstance(v, int | float)]
    med = {k: median([s[k] for s in samples]) for k in keys}
    return {"spec": spec, "median": med, "samples": samples}


# ----------------------------------------------------------------------------- section 1
def fullscale(args: argparse.Namespace, cache: dict[str, Any]) -> dict[str, Any]:
    """Wall time and peak RSS of one full-scale replication, model only and with metrics."""
    frac = args.fraction
    print(f"\n[1] full-scale scenario ({FULLSCALE.name}, population x {frac:g})", flush=True)
    model = repeated(
        {"kind": "model", "scenario": str(FULLSCALE), "fraction": frac}, args.repeats, "run_model"
    )
    cache[f"model:{frac}:None"] = model
    sim = repeated(
        {"kind": "simulate", "scenario": str(FULLSCALE), "fraction": frac}, args.repeats, "simulate"
    )
    m, s = model["median"], sim["median"]
    out = {
        "scenario": FULLSCALE.name,
        "population_fraction": frac,
        "households": m["households"],
        "household_journeys": m["journeys"],
        "persons_returned": m["persons_returned"],
        "stage_visits": m["stage_visits"],
        "simpy_events": m["events"],
        "model_wall_s": m["wall_s"],
        "model_cpu_s": m["cpu_s"],
        "model_events_per_s": m["events"] / m["wall_s"],
        "model_peak_rss_mb": m["peak_rss_mb"],
        "simulate_wall_s": s["wall_s"],
        "simulate_cpu_s": s["cpu_s"],
        "metrics_wall_s": s["metrics_wall_s"],
        "metrics_cpu_s": s["metrics_cpu_s"],
        "simulate_peak_rss_mb": s["peak_rss_mb"],
        "baseline_rss_mb": m["base_rss_mb"],
        "target_wall_s": TARGET_WALL_S,
        "target_peak_mb": TARGET_PEAK_MB,
        "model_meets_wall_target": m["wall_s"] <= TARGET_WALL_S,
        "simulate_meets_wall_target": s["wall_s"] <= TARGET_WALL_S,
        "meets_memory_target": max(m["peak_rss_mb"], s["peak_rss_mb"]) <= TARGET_PEAK_MB,
        "runs": {"model": model, "simulate": sim},
    }
    print(
        f"  {m['households']:,.0f} households, {m['journeys']:,.0f} journeys, "
        f"{m['stage_visits']:,.0f} stage visits, {m['events']:,.0f} SimPy events"
    )
    print(
        f"  run_model : {m['wall_s']:7.2f} s wall ({m['cpu_s']:.2f} s CPU)  "
        f"peak RSS {m['peak_rss_mb']:6.0f} MB  ({m['events'] / m['wall_s']:,.0f} events/s)"
    )
    print(
        f"  simulate  : {s['wall_s']:7.2f} s wall ({s['cpu_s']:.2f} s CPU)  "
        f"peak RSS {s['peak_rss_mb']:6.0f} MB"
    )
    print(
        f"  of which metrics (simulate minus its own run_model): {s['metrics_wall_s']:.2f} s wall "
        f"({s['metrics_cpu_s']:.2f} s CPU)"
    )
    print(f"  interpreter + libraries before the run: {m['base_rss_mb']:.0f} MB")
    verdict = {True: "met", False: "NOT met"}
    print(
        f"  targets: <= {TARGET_WALL_S:g} s: run_model {verdict[out['model_meets_wall_target']]}, "
        f"simulate {verdict[out['simulate_meets_wall_target']]}; "
        f"<= {TARGET_PEAK_MB:g} MB: {verdict[out['meets_memory_target']]}"
    )
    return out


# ----------------------------------------------------------------------------- section 2
def stage_scenario(households: int) -> Scenario:
    """One stage, ``STAGE_SERVERS`` exponential servers open 24/7, Poisson households."""
    per_day = STAGE_RHO * STAGE_SERVERS * 24 * 60 / STAGE_SERVICE_MIN
    days = max(2, math.ceil(households / per_day))
    start = dt.date(2025, 1, 1)
    data = {
        "name": "bench_saturated_stage",
        "calendar": {"start": start, "end": start + dt.timedelta(days=days - 1)},
        "crossings": {
            "gate": {
                "stages": {
                    "desk": {
                        "servers": STAGE_SERVERS,
                        "service_minutes": {
                            "per_household": {"dist": "exponential", "mean": STAGE_SERVICE_MIN}
                        },
                    }
                }
            }
        },
        "demand": [
            {
                "crossing": "gate",
                "unit": "households",
                "household_size": {"values": [1]},
                "schedule": [{"from": start, "rate_per_day": per_day}],
            }
        ],
    }
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), "<bench_saturated_stage>")


def straightforward_simpy(
    arrivals: list[float], services: list[float], servers: int, horizon: float
) -> list[float]:
    """The textbook SimPy model: a feeder, one process per household, a ``simpy.Resource``."""
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)
    waits: list[float] = []

    def household(arrived: float, service: float) -> Any:
        with desk.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(service)

    def feeder() -> Any:
        for arrived, service in zip(arrivals, services, strict=True):
            yield env.timeout(arrived - env.now)
            env.process(household(arrived, service))

    env.process(feeder())
    env.run(until=horizon)
    return waits


def kiefer_wolfowitz(arrivals: list[float], services: list[float], servers: int) -> list[float]:
    """FCFS c-server waits by the Kiefer-Wolfowitz recursion (a heap of server free times)."""
    free = [0.0] * servers
    waits = []
    replace = heapq.heapreplace
    for arrived, service in zip(arrivals, services, strict=True):
        earliest = free[0]
        start = arrived if arrived > earliest else earliest
        replace(free, start + service)
        waits.append(start - arrived)
    return waits


def stage_throughput(args: argparse.Namespace) -> dict[str, Any]:
    """Visits per second of repatsim, straightforward SimPy and the recursion on one stage."""
    scenario = stage_scenario(args.stage_households)
    print(
        f"\n[2] one saturated stage: c={STAGE_SERVERS}, rho={STAGE_RHO}, "
        f"~{args.stage_households:,} households over {scenario.days} days",
        flush=True,
    )
    raw = run_model(scenario, SEED)
    log = raw.stage_logs[("gate", "desk")]
    served = log["kind"] == SERVED  # households still waiting at the end are left out
    arrive, start, end = log["arrive"][served], log["start"][served], log["end"][served]
    order = np.argsort(arrive, kind="stable")
    arrivals, services, waits_a = arrive[order], (end - start)[order], (start - arrive)[order]
    visits = int(served.sum())
    arr_list, svc_list = arrivals.tolist(), services.tolist()
    horizon = scenario.horizon_hours

    times: dict[str, list[float]] = {"repatsim": [], "events": [], "simpy": [], "recursion": []}
    cpus: dict[str, list[float]] = {k: [] for k in times}
    waits_b: list[float] = []
    waits_c: list[float] = []
    loads: list[float] = []
    for i in range(args.repeats):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        run_model(scenario, SEED)
        times["repatsim"].append(time.perf_counter() - t)
        cpus["repatsim"].append(time.process_time() - c)
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        run_model(scenario, SEED, lookahead=False)  # the event engine on the same stage
        times["events"].append(time.perf_counter() - t)
        cpus["events"].append(time.process_time() - c)
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        waits_b = straightforward_simpy(arr_list, svc_list, STAGE_SERVERS, horizon)
        times["simpy"].append(time.perf_counter() - t)
        cpus["simpy"].append(time.process_time() - c)
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        waits_c = kiefer_wolfowitz(arr_list, svc_list, STAGE_SERVERS)
        times["recursion"].append(time.perf_counter() - t)
        cpus["recursion"].append(time.process_time() - c)
        last = {k: v[-1] for k, v in times.items()}
        loads.append(os.getloadavg()[0])
        print(
            f"    run {i + 1}/{args.repeats}: repatsim {last['repatsim']:.2f} s "
            f"(event engine {last['events']:.2f} s), "
            f"straightforward SimPy {last['simpy']:.2f} s, recursion {last['recursion']:.3f} s "
            f"(load {loads[-1]:.1f})",
            flush=True,
        )
    med = {k: median(v) for k, v in times.items()}
    rate = {k: visits / v for k, v in med.items()}
    wb, wc = np.asarray(waits_b), np.asarray(waits_c)
    mean_wait = {
        "repatsim": float(waits_a.mean()),
        "simpy": float(wb.mean()),
        "recursion": float(wc.mean()),
    }
    agree: dict[str, Any] = {
        "mean_wait_hours": mean_wait,
        "max_abs_diff_hours_repatsim_vs_recursion": float(np.max(np.abs(waits_a - wc))),
        # FIFO: the straightforward model starts households in arrival order
        "max_abs_diff_hours_simpy_vs_recursion": (
            float(np.max(np.abs(wb - wc))) if len(wb) == len(wc) else float("nan")
        ),
        "simpy_households_started": len(waits_b),
    }
    speedup = rate["repatsim"] / rate["simpy"]
    gap = rate["recursion"] / rate["repatsim"]
    cpu = {k: median(v) for k, v in cpus.items()}
    out = {
        "servers": STAGE_SERVERS,
        "rho": STAGE_RHO,
        "mean_service_minutes": STAGE_SERVICE_MIN,
        "days": scenario.days,
        "visits": visits,
        "wall_s": med,
        "visits_per_s": rate,
        "repatsim_over_simpy": speedup,
        "recursion_over_repatsim": gap,
        "target_repatsim_over_simpy": TARGET_SPEEDUP_VS_SIMPY,
        "target_recursion_over_repatsim": TARGET_RECURSION_RATIO,
        "meets_speedup_target": speedup >= TARGET_SPEEDUP_VS_SIMPY,
        "meets_recursion_target": gap <= TARGET_RECURSION_RATIO,
        "agreement": agree,
        "samples_s": times,
        "samples_cpu_s": cpus,
        "cpu_s": cpu,
        "repatsim_over_simpy_cpu": cpu["simpy"] / cpu["repatsim"],
        "recursion_over_repatsim_cpu": cpu["repatsim"] / cpu["recursion"],
        "load_1min": loads,
    }
    print(f"  {visits:,} household-stage visits; median of {args.repeats}:")
    for key, label in (
        ("repatsim", "repatsim run_model"),
        ("events", "  same, every stage event-driven"),
        ("simpy", "straightforward SimPy (Resource)"),
        ("recursion", "Kiefer-Wolfowitz recursion"),
    ):
        print(
            f"  {label:36s} {med[key]:7.3f} s wall ({cpu[key]:.3f} s CPU) "
            f"{rate[key]:12,.0f} visits/s"
        )
    print(
        f"  repatsim / straightforward = {speedup:.2f}x (target >= {TARGET_SPEEDUP_VS_SIMPY:g}x: "
        f"{'met' if out['meets_speedup_target'] else 'NOT met'}; "
        f"by CPU time {out['repatsim_over_simpy_cpu']:.2f}x)"
    )
    print(
        f"  recursion / repatsim       = {gap:.2f}x (target <= {TARGET_RECURSION_RATIO:g}x: "
        f"{'met' if out['meets_recursion_target'] else 'NOT met'}; "
        f"by CPU time {out['recursion_over_repatsim_cpu']:.2f}x)"
    )
    m = mean_wait
    print(
        f"  mean wait (h): repatsim {m['repatsim']:.4f}, SimPy {m['simpy']:.4f}, "
        f"recursion {m['recursion']:.4f}; max |repatsim - recursion| = "
        f"{agree['max_abs_diff_hours_repatsim_vs_recursion']:.2e} h, |SimPy - recursion| = "
        f"{agree['max_abs_diff_hours_simpy_vs_recursion']:.2e} h"
    )
    return out


# ----------------------------------------------------------------------------- section 3
def scaling(args: argparse.Namespace, cache: dict[str, Any]) -> dict[str, Any]:
    """Wall time against population; peak memory against horizon at a fixed population."""
    print("\n[3] scaling (run_model, fresh process per run)", flush=True)
    by_size = []
    for share in args.scales:
        frac = share * args.fraction
        key = f"model:{frac}:None"
        if key not in cache:
            spec = {"kind": "model", "scenario": str(FULLSCALE), "fraction": frac}
            cache[key] = repeated(spec, args.repeats, f"{share:.0%} population")
        m = cache[key]["median"]
        by_size.append(
            {
                "population_share": share,
                "households": m["households"],
                "journeys": m["journeys"],
                "stage_visits": m["stage_visits"],
                "wall_s": m["wall_s"],
                "peak_rss_mb": m["peak_rss_mb"],
                "us_per_visit": 1e6 * m["wall_s"] / m["stage_visits"],
            }
        )
    by_days = []
    for days in args.horizons:
        key = f"model:{args.fraction}:{None if days == 365 else days}"
        if key not in cache:
            spec = {
                "kind": "model",
                "scenario": str(FULLSCALE),
                "fraction": args.fraction,
                "days": days,
            }
            cache[key] = repeated(spec, args.repeats, f"{days}-day horizon")
        m = cache[key]["median"]
        by_days.append(
            {
                "days": days,
                "households": m["households"],
                "journeys": m["journeys"],
                "stage_visits": m["stage_visits"],
                "wall_s": m["wall_s"],
                "peak_rss_mb": m["peak_rss_mb"],
                "baseline_rss_mb": m["base_rss_mb"],
                "outputs_mb": m["output_mb"],
            }
        )
    print("  population  households  journeys  stage visits   wall s   peak MB  us/visit")
    for r in by_size:
        print(
            f"  {r['population_share']:9.0%} {r['households']:11,.0f} {r['journeys']:9,.0f} "
            f"{r['stage_visits']:13,.0f} {r['wall_s']:8.2f} {r['peak_rss_mb']:9.0f} "
            f"{r['us_per_visit']:9.2f}"
        )
    print("  horizon  journeys  stage visits  wall s  peak MB  before run MB  raw outputs MB")
    for r in by_days:
        print(
            f"  {r['days']:5d} d {r['journeys']:9,.0f} {r['stage_visits']:13,.0f} "
            f"{r['wall_s']:7.2f} {r['peak_rss_mb']:8.0f} {r['baseline_rss_mb']:14.0f} "
            f"{r['outputs_mb']:15.0f}"
        )
    short, long = by_days[0], by_days[-1]
    extra_visits = long["stage_visits"] - short["stage_visits"]
    marginal = {
        "peak_bytes_per_extra_visit": 1e6
        * (long["peak_rss_mb"] - short["peak_rss_mb"])
        / max(extra_visits, 1),
        "output_bytes_per_extra_visit": 1e6
        * (long["outputs_mb"] - short["outputs_mb"])
        / max(extra_visits, 1),
    }
    print(
        f"  {short['days']} -> {long['days']} days: peak RSS grows "
        f"{marginal['peak_bytes_per_extra_visit']:.0f} bytes per extra stage visit; the raw "
        f"outputs alone {marginal['output_bytes_per_extra_visit']:.0f} bytes per visit"
    )
    return {"population": by_size, "horizon": by_days, "horizon_marginal": marginal}


# ----------------------------------------------------------------------------- section 4
def workers(args: argparse.Namespace) -> dict[str, Any]:
    """Replications of the default scenario on one and on two worker processes."""
    n = args.replications
    print(f"\n[4] {n} replications of {DEFAULT.name}: run_replications, 1 vs 2 workers", flush=True)
    runs = {}
    for w in (1, 2):
        spec = {"kind": "replications", "scenario": str(DEFAULT), "replications": n, "workers": w}
        runs[w] = repeated(spec, args.repeats, f"{w} worker{'s' if w > 1 else ''}")
    one, two = runs[1]["median"]["wall_s"], runs[2]["median"]["wall_s"]
    for w, wall in ((1, one), (2, two)):
        m = runs[w]["median"]
        print(
            f"  {w} worker{'s' if w > 1 else ' '}: {wall:7.2f} s wall ({wall / n:.2f} s per "
            f"replication), {m['cpu_s']:.1f} s CPU, peak RSS {m['peak_rss_mb']:.0f} MB"
            + (f" (+ {m['worker_peak_rss_mb']:.0f} MB per worker)" if w > 1 else "")
        )
    print(f"  speed-up : {one / two:.2f}x on {len(os.sched_getaffinity(0))} usable cores")
    return {
        "scenario": DEFAULT.name,
        "replications": n,
        "wall_s_1_worker": one,
        "wall_s_2_workers": two,
        "speedup": one / two,
        "cpu_s_1_worker": runs[1]["median"]["cpu_s"],
        "cpu_s_2_workers": runs[2]["median"]["cpu_s"],
        "runs": {str(k): v for k, v in runs.items()},
    }


# ----------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short smoke version (small sizes)")
    p.add_argument("--repeats", type=int, help="runs per figure (median); default 3, quick 1")
    p.add_argument("--out", type=Path, help="JSON output (default results/latest.json, quick.json)")
    p.add_argument(
        "--only", type=int, nargs="*", choices=[1, 2, 3, 4], help="run only these sections"
    )
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.repeats < 1:
        p.error("--repeats must be >= 1")
    if args.out is None:
        args.out = OUT.with_name("quick.json") if args.quick else OUT
    # the fraction of benchmark_fullscale.yaml's population treated as "100%"
    args.fraction = 0.05 if args.quick else 1.0
    args.stage_households = 20_000 if args.quick else 200_000
    args.scales = [0.1, 0.3, 1.0]
    args.horizons = [120, 365]
    args.replications = 4 if args.quick else 20
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    info = machine()
    print("repatsim benchmark" + (" (--quick smoke run)" if args.quick else ""))
    print(
        f"machine: {info['cpu_model']} ({info['cpu_mhz']} MHz), {info['logical_cores']} logical "
        f"cores ({info['usable_cores']} usable), {info['memory_gb']} GB RAM"
    )
    print(
        f"software: Python {info['python']}, SimPy {info['simpy']}, numpy {info['numpy']}, "
        f"pandas {info['pandas']}; repatsim {info['repatsim_commit']}"
        + (" (simulation/ modified)" if info["repatsim_dirty"] else "")
    )
    print(f"load average at start: {info['load_average_start']}; medians of {args.repeats} run(s)")
    started = time.perf_counter()
    sections = set(args.only or [1, 2, 3, 4])
    cache: dict[str, Any] = {}
    report: dict[str, Any] = {
        "generated": dt.datetime.now().isoformat(timespec="seconds"),
        "quick": args.quick,
        "repeats": args.repeats,
        "machine": info,
    }
    if 1 in sections:
        report["fullscale"] = fullscale(args, cache)
    if 2 in sections:
        report["stage_throughput"] = stage_throughput(args)
    if 3 in sections:
        report["scaling"] = scaling(args, cache)
    if 4 in sections:
        report["workers"] = workers(args)
    info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    report["total_wall_s"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\nload average at end: {info['load_average_end']}; "
        f"total {report['total_wall_s']:.0f} s; wrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
