"""Figures of a report: matplotlib figures drawn off screen and inlined as PNG data URIs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulation.report.folder import Folder, ReportError, reason
from simulation.report.html import Html, el, figure, join
from simulation.results import FRAMES

CAPTIONS = {
    "queues": "Persons queueing and hours waited per day at each stage, policy events marked "
    "(mean, 5–95% band across replications).",
    "returns": "Persons returning per day by group, all modes, voluntary and deported "
    "(mean, 5–95% band across replications).",
    "stocks": "Where people are, per group (mean, 5–95% band across replications).",
    "who_waits": "Mean wait by group, mode and vulnerability at the stages where they differ.",
}


def off_screen() -> None:
    """Draw into files only: never open a window."""
    import matplotlib

    matplotlib.use("Agg")


def plot_function(name: str) -> Callable[..., Any] | None:
    """A public function of :mod:`simulation.plots` if this version has it."""
    off_screen()
    from simulation import plots

    draw = getattr(plots, name, None)
    return draw if callable(draw) else None


def run_figures_section(folder: Folder) -> Html | None:
    """The figures ``repatsim run`` draws, from the folder's frames (None without frames)."""
    if not all(folder.has(f"{n}.csv") or folder.has(f"{n}.parquet") for n in FRAMES):
        return None
    off_screen()
    from simulation.plots import standard_figures
    from simulation.results import read_results

    try:
        results = read_results(folder.path)
    except (OSError, ValueError, KeyError, ImportError) as exc:
        raise ReportError(f"{folder.path}: its frames cannot be read ({reason(exc)})") from None
    drawn = standard_figures(results.daily_stage, results.returns, results.stocks,
                             events=_events(folder), who_waits=results.who_waits)  # fmt: skip
    shown = [figure(fig, CAPTIONS.get(name, name)) for name, fig in drawn.items()]
    return el("section", el("h2", "Figures"), join(shown), id="figures")


def optional_figure(name: str, caption: str, *args: Any, **kwargs: Any) -> Html:
    """``simulation.plots.<name>(*args, **kwargs)`` inlined, or nothing if it is missing or
    has nothing to draw (a ValueError)."""
    draw = plot_function(name)
    if draw is None:
        return Html("")
    try:
        return figure(draw(*args, **kwargs), caption)
    except ValueError:
        return Html("")


def _events(folder: Folder) -> Any:
    """The policy events of the folder's resolved scenario (None if it cannot be read)."""
    from simulation.plots import policy_events
    from simulation.scenario import ScenarioError, parse_scenario

    path = folder.path / "scenario.resolved.yaml"
    if not path.is_file():
        return None
    try:
        return policy_events(parse_scenario(path.read_text(encoding="utf-8"), str(path)))
    except (ScenarioError, OSError):
        return None
