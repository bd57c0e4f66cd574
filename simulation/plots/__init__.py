"""Matplotlib figures from the tidy frames: ``(frame, ax=None) -> Figure``, never ``show()``.

Every time axis has the same concise dates and marks the policy events (built by
:func:`policy_events` from a scenario); each population group keeps one colour
(:func:`group_colour`) in every figure; counts have thousands separators. The experiment
figures (:func:`plot_differences`, :func:`plot_sizing`) are imported when first asked for:
``repatsim run`` never draws them.
"""

from typing import Any

from simulation.plots.events import as_events, policy_events
from simulation.plots.people import plot_returns, plot_stocks
from simulation.plots.stages import plot_queues, plot_waits
from simulation.plots.standard import standard_figures
from simulation.plots.style import (
    count_label,
    crossing_colour,
    format_counts,
    format_dates,
    group_colour,
)
from simulation.plots.who import plot_who_waits

__all__ = [
    "as_events",
    "count_label",
    "crossing_colour",
    "format_counts",
    "format_dates",
    "group_colour",
    "plot_differences",
    "plot_queues",
    "plot_returns",
    "plot_sizing",
    "plot_stocks",
    "plot_waits",
    "plot_who_waits",
    "policy_events",
    "standard_figures",
]


def __getattr__(name: str) -> Any:
    """The experiment figures, imported on first use."""
    if name in ("plot_differences", "plot_sizing"):
        from simulation.plots import experiments

        return getattr(experiments, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
