"""Running a forecast: every (Latin-hypercube point x replication) of an experiment file on
common random numbers (:func:`~simulation.experiments.sweep.plan_sweep`), each run reduced at
once to its small monthly table (:mod:`.forecast`), so memory stays small whatever the runs.

The experiment file may carry a ``forecast:`` section, the months to tabulate::

    forecast: {from: 2025-06-01, until: 2025-12-31}   # default: the whole calendar
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field, model_validator
from tqdm import tqdm

from simulation.calibration.forecast import UnCount, Window, run_table, summarise
from simulation.engine.run import run_model
from simulation.experiments.files import Experiment, ExperimentFile, load_experiment
from simulation.experiments.runners import LocalRunner, Runner
from simulation.experiments.sweep import RunTask, plan_sweep
from simulation.outputs.frames import returns as returns_frame
from simulation.outputs.frames import stocks as stocks_frame
from simulation.scenario import Scenario, ScenarioError
from simulation.scenario.errors import Source
from simulation.scenario.reading import read_yaml
from simulation.scenario.schema import Frozen

CHUNK_PER_WORKER = 4


class ForecastWindow(Frozen):
    """``forecast:``: the first and last day tabulated (whole months: clip to month ends)."""

    first: dt.date | None = Field(default=None, alias="from")
    until: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ForecastWindow:
        if self.first is not None and self.until is not None and self.until < self.first:
            raise ValueError("expected from <= until")
        return self


class ForecastFile(ExperimentFile):
    """An experiment file with an optional ``forecast:`` window."""

    forecast: ForecastWindow = Field(default_factory=ForecastWindow)


def load_forecast(path: str | Path) -> tuple[Experiment, Window]:
    """The experiment file (no variants) and its window within the scenario's calendar; a
    :class:`ScenarioError` of one line (file:line: key: what) if either is wrong."""
    experiment = load_experiment(path, ForecastFile)
    where = _lines(Path(path))
    if experiment.spec.variants:
        raise ScenarioError([f"{where(('variants',))}: variants: a forecast pools uncertainties; "
                             "compare variants with `repatsim compare`"])  # fmt: skip
    calendar = experiment.arm([]).calendar
    spec = experiment.spec.forecast  # type: ignore[attr-defined]
    first, last = spec.first or calendar.start, spec.until or calendar.end
    for key, day in (("from", first), ("until", last)):
        if not calendar.start <= day <= calendar.end:
            within = f"{calendar.start}..{calendar.end}"
            raise ScenarioError([f"{where(('forecast', key))}: forecast.{key}: {day} is outside "
                                 f"the scenario's calendar {within}"])  # fmt: skip
    return experiment, Window(first, last)


def _lines(path: Path) -> Any:
    """``line_of(key path)`` of the file (read again: it was valid a moment ago)."""
    _, found = read_yaml(path.read_text(encoding="utf-8"), str(path))
    return Source(str(path), found.lines, {}).line_of


def arrests(raw: Any) -> pd.DataFrame:
    """Persons arrested per day and population group (date, group, persons): the ``arrested``
    column of the run's stocks frame, the one place arrests are counted."""
    daily = stocks_frame(raw)[["date", "group", "arrested"]]
    return daily.rename(columns={"arrested": "persons"}).astype({"persons": float})


Job = tuple[RunTask, Window, float | None]


def forecast_run(job: Job) -> pd.DataFrame:
    """One run's monthly table, with its ``point`` and ``replication`` (a task for a runner)."""
    task, window, offset = job
    scenario: Scenario = task.scenario
    raw = run_model(scenario, task.seed)
    has_crackdown = scenario.crackdown is not None and bool(scenario.populations)
    table = run_table(returns_frame(raw), arrests(raw) if has_crackdown else None,
                      scenario.calendar.start, window, scenario.group_names, offset)  # fmt: skip
    table.insert(0, "replication", task.replication)
    table.insert(0, "point", task.point)
    return table


@dataclass
class Forecast:
    """A forecast: every run's table, the design points, the summary and a manifest."""

    runs: pd.DataFrame
    points: pd.DataFrame
    table: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)


def run_forecast(
    experiment: Experiment,
    window: Window,
    count: UnCount,
    replications: int | None = None,
    samples: int | None = None,
    seed: int | None = None,
    runner: Runner | None = None,
    progress: bool = False,
) -> Forecast:
    """Run the experiment's design (``samples`` Latin-hypercube points of its ranges, crossed
    with listed values) x ``replications`` on common seeds; tabulate ``window``'s months."""
    started = time.perf_counter()
    spec = experiment.spec
    levers, uncertainties = experiment.sweep_arguments()
    plan = plan_sweep(experiment.scenario_path, levers, uncertainties,
                      spec.samples if samples is None else samples,
                      replications or spec.replications, spec.seed if seed is None else seed,
                      spec.set)  # fmt: skip
    runner = runner or LocalRunner(1)
    jobs: list[Job] = [(task, window, count.persons) for task in plan.tasks]
    runs = pd.concat(list(_execute(jobs, runner, progress)), ignore_index=True)
    points = pd.DataFrame([{"point": t.point, **dict(t.cells)} for t in plan.tasks
                           if t.replication == 0])  # fmt: skip
    manifest = {**plan.manifest, "kind": "forecast", "window": [window.first, window.last],
                "un_offset_persons": count.persons, "un_offset": count.words,
                "runner": getattr(runner, "describe", lambda: type(runner).__name__)(),
                "wall_seconds": round(time.perf_counter() - started, 3)}  # fmt: skip
    return Forecast(runs, points, summarise(runs), manifest)


def _execute(jobs: Sequence[Job], runner: Runner, progress: bool) -> list[pd.DataFrame]:
    """Every job's table, a chunk at a time, with a progress bar."""
    chunk = CHUNK_PER_WORKER * int(getattr(runner, "workers", CHUNK_PER_WORKER))
    out: list[pd.DataFrame] = []
    with tqdm(total=len(jobs), desc="forecast", unit="run", disable=not progress) as bar:
        for start in range(0, len(jobs), chunk):
            for table in runner.map(forecast_run, jobs[start : start + chunk]):
                out.append(table)
                bar.update()
    return out
