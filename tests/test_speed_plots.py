"""The drawing shortcuts give the figures matplotlib would draw without them, and the layout
fixed once keeps every text inside its figure and apart from the others."""

from __future__ import annotations

import io
import itertools
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator
from matplotlib.transforms import Bbox
from PIL import Image

from simulation.plots import as_events, standard_figures
from simulation.plots.events import draw_events
from simulation.plots.fixed import PanelFigure, _is_png, fix_ticks
from simulation.plots.layout import FixedTickDates, set_span
from simulation.plots.render import FastCanvas, png_bytes
from simulation.plots.style import TITLE_Y
from tests.test_plots import EVENTS, daily_stage, panels, returns, stocks, who_waits


@pytest.mark.parametrize("days", [3, 20, 90, 365, 800])
def test_fixed_tick_dates_label_as_concise_dates(days: int) -> None:
    """Labels and offset (the year or month shown once) are ConciseDateFormatter's, also when
    asked again, and on an inverted axis."""
    fig, ax = plt.subplots()
    start = pd.Timestamp("2025-01-25")  # 20 days: the offset differs by side
    set_span(ax, (start, start + pd.Timedelta(days=days)))
    formatter = ax.xaxis.get_major_formatter()
    assert isinstance(formatter, FixedTickDates)
    ticks = ax.xaxis.get_majorticklocs()
    plain = mdates.ConciseDateFormatter(FixedLocator(ticks))
    plain.set_axis(ax.xaxis)
    plain._locator.set_axis(ax.xaxis)
    for inverted in (False, False, True, True):  # the same ticks asked again, then inverted
        if inverted:
            ax.xaxis.set_inverted(True)
        assert formatter.format_ticks(ticks) == plain.format_ticks(ticks)
        assert formatter.get_offset() == plain.get_offset()
    plt.close(fig)


def test_fixed_title_height_draws_as_matplotlib_places_it() -> None:
    """A panel title at TITLE_Y lands where matplotlib's own placement puts it."""
    boxes = []
    for y in (None, TITLE_Y):
        fig, ax = plt.subplots(layout="constrained")
        ax.plot(np.arange(10), np.arange(10) * 1000)
        ax.set_title("torkham · gate", loc="left", fontsize="small", y=y)
        fig.canvas.draw()
        boxes.append(ax._left_title.get_window_extent().bounds)
        plt.close(fig)
    assert boxes[0] == boxes[1]


# ---------------------------------------------------------------- the fixed layout
@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _standard_set() -> dict[str, Figure]:
    """The figures of ``repatsim run`` from the hand-made frames, with events, and a stage
    whose queue runs to millions (the widest tick labels)."""
    stage = daily_stage()
    stage.loc[stage["stage"] == "s2", "queue_mean_persons"] *= 1e6
    return standard_figures(stage, returns(), stocks(), EVENTS, who_waits())


def _boxes(fig: Figure) -> list[tuple[str, Bbox]]:
    """What is drawn, named: each axes with its labels and titles, the figure's title,
    legend and note (pixels)."""
    renderer = fig.canvas.get_renderer()
    named = [(f"axes {i} {ax.get_title(loc='left')!r}", ax.get_tightbbox(renderer))
             for i, ax in enumerate(fig.axes)]  # fmt: skip
    named += [(f"legend {i}", legend.get_window_extent(renderer))
              for i, legend in enumerate(fig.legends)]  # fmt: skip
    named += [(f"text {t.get_text()[:20]!r}", t.get_window_extent(renderer)) for t in fig.texts
              if t.get_visible() and t.get_text()]  # fmt: skip
    return [(name, box) for name, box in named if box is not None]


@pytest.mark.parametrize("name", ["queues", "returns", "stocks", "who_waits"])
def test_a_laid_out_figure_draws_everything_inside_it_and_nothing_over_another(name) -> None:
    fig = _standard_set()[name]
    assert isinstance(fig, PanelFigure) and fig.get_layout_engine() is None
    fig.canvas.draw()
    inside = fig.bbox.padded(-1.0)  # not even touching the edge
    boxes = _boxes(fig)
    for what, box in boxes:
        assert inside.containsx(box.x0) and inside.containsx(box.x1), (name, what)
        assert inside.containsy(box.y0) and inside.containsy(box.y1), (name, what)
    for (one, a), (other, b) in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (name, one, other)


def test_every_panel_keeps_its_title_and_the_lowest_of_each_column_its_dates() -> None:
    for name, fig in _standard_set().items():
        shown = panels(fig)
        assert all(ax.get_title(loc="left") for ax in shown), name
        if name == "who_waits":
            assert all(ax.get_xlabel() and ax.get_yticklabels() for ax in shown)
            continue
        lowest = {}
        for ax in shown:
            column = ax.get_subplotspec().colspan.start
            if ax.get_position().y0 < lowest.get(column, (2.0, None))[0]:
                lowest[column] = (ax.get_position().y0, ax)
        for ax in shown:
            below = lowest[ax.get_subplotspec().colspan.start][1]
            dated = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
            assert bool(dated) == (ax is below), name
            if ax is not below:  # the same tick marks, as one line of markers, no tick objects
                (marks,) = [line for line in ax.lines if line.get_gid() == "ticks"]
                assert list(marks.get_xdata()) == list(below.xaxis.get_majorticklocs())
                assert len(ax.xaxis.get_majorticklocs()) == 0


def test_tight_saving_gives_the_figure_as_laid_out(tmp_path) -> None:
    """bbox_inches="tight" changes nothing (nothing lies outside, the test above); PNGs are
    written at zlib level PNG_COMPRESSION, other formats as matplotlib writes them."""
    fig = _standard_set()["returns"]
    fig.savefig(tmp_path / "tight.png", dpi=50, bbox_inches="tight")
    fig.savefig(tmp_path / "plain.png", dpi=50)
    tight = plt.imread(tmp_path / "tight.png")
    assert tight.shape[:2] == tuple(int(x) for x in fig.get_size_inches()[::-1] * 50)
    assert np.array_equal(tight, plt.imread(tmp_path / "plain.png"))
    fig.savefig(tmp_path / "figure.pdf")  # no PNG options passed to another writer
    assert (tmp_path / "figure.pdf").read_bytes().startswith(b"%PDF")
    assert _is_png("a.PNG", None) and _is_png(tmp_path / "b", "png") and not _is_png("c.svg", None)


@pytest.mark.parametrize("limits", [(0.0, 2.3), (0.0, 18_500.0), (0.0, 0.02), (-3.0, 7.0)])
def test_fixed_ticks_are_at_most_five_nice_values_within_the_limits(limits) -> None:
    fig, ax = plt.subplots()
    ax.set_ylim(*limits)
    fix_ticks(ax)
    ticks = ax.yaxis.get_majorticklocs()
    assert 3 <= len(ticks) <= 5
    assert limits[0] <= min(ticks) and max(ticks) <= limits[1]
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])  # evenly spaced
    mantissa = steps[0] / 10 ** np.floor(np.log10(steps[0]))
    assert any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5))
    ax.set_yticks([0.5, 1.5])  # ticks chosen by hand are left alone
    fix_ticks(ax)
    assert list(ax.yaxis.get_majorticklocs()) == [0.5, 1.5]
    ax.set_xlim(*limits)  # and the x axis alike
    fix_ticks(ax, "x")
    assert list(ax.xaxis.get_majorticklocs()) == list(ticks)
    plt.close(fig)


def test_event_collections_mark_each_event_at_its_dates() -> None:
    fig, ax = plt.subplots()
    draw_events(ax, as_events(EVENTS))
    spans, lines = ax.collections  # closures first, then dated events
    (box,) = spans.get_paths()
    assert {float(x) for x in box.vertices[:, 0]} == {
        float(mdates.date2num(pd.Timestamp(d))) for d in ("2025-03-27", "2025-03-29")}  # fmt: skip
    (segment,) = lines.get_segments()
    assert list(segment[:, 0]) == [float(mdates.date2num(pd.Timestamp("2025-03-31")))] * 2
    assert [tuple(s) for s in lines.get_linestyles()] != [(0, None)]  # the deadline is dashed
    plt.close(fig)


# ---------------------------------------------------------------- the PNG writer and text
def _pixels(fig: Figure, **kwargs) -> np.ndarray:
    """The RGBA pixels of ``fig`` as written by savefig at 60 dpi (``kwargs`` passed on)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60, **kwargs)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGBA"))


@pytest.mark.parametrize("name", ["queues", "who_waits"])
def test_a_panel_figure_saves_the_pixels_matplotlib_draws(name) -> None:
    """The kept layouts, the font size set once per string and the PNG writer change no
    pixel: the same figure saved by plain matplotlib (Figure.savefig, Agg, Pillow) is equal,
    and so is a second save (layouts then come from the cache)."""
    fig = _standard_set()[name]
    fig.texts[0].set_rotation(30)  # a turned text too, and a panel's title larger and bold
    title = fig.axes[-1].get_title(loc="left")
    fig.text(0.5, 0.5, title, fontsize=20, ha="center", va="center")  # placed by its size
    fig.text(0.3, 0.4, title, fontsize="small", fontweight="bold")
    fast, again = _pixels(fig), _pixels(fig)
    plain = io.BytesIO()
    Figure.savefig(fig, plain, format="png", dpi=60)
    plain.seek(0)
    reference = np.asarray(Image.open(plain).convert("RGBA"))
    assert fast.shape == reference.shape
    assert np.array_equal(fast, reference) and np.array_equal(again, reference)
    assert type(fig.canvas) is not FastCanvas  # its own canvas given back


def test_png_bytes_round_trip_opaque_as_rgb_and_transparent_as_rgba() -> None:
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (7, 5, 4), dtype=np.uint8)
    opaque = image.copy()
    opaque[..., 3] = 255
    for pixels, mode in ((opaque, "RGB"), (image, "RGBA")):
        read = Image.open(io.BytesIO(png_bytes(pixels, 120, {"Software": "x"}, 1)))
        assert read.mode == mode and read.info["Software"] == "x"
        assert round(read.info["dpi"][0]) == 120
        assert np.array_equal(np.asarray(read.convert("RGBA")), pixels)


def test_transparent_saving_keeps_its_alpha_and_other_pil_options_go_to_pillow() -> None:
    fig = _standard_set()["returns"]
    clear = _pixels(fig, transparent=True)
    assert clear[..., 3].min() == 0  # the background is see-through
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=30, pil_kwargs={"optimize": True})
    assert Image.open(buffer).mode == "RGBA"  # matplotlib's own writer


@pytest.mark.parametrize(("enabled", "frozen"), [(True, False), (False, False), (True, True)])
def test_the_collector_is_paused_while_figures_are_made_and_saved(
    enabled: bool, frozen: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Collections during plotting rescan the whole process in vain: the collector is off
    (and what was there before frozen) while each figure is made and drawn, and left as it
    was found afterwards (on, or off if the caller had turned it off; with what the caller
    froze, and only that, still frozen)."""
    import gc

    from matplotlib.figure import Figure

    import simulation.plots.standard as standard

    seen: list[tuple[str, bool, bool]] = []  # (where, collector on, anything frozen)

    def watched(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            seen.append((name, gc.isenabled(), gc.get_freeze_count() > 0))
            return real(*args, **kwargs)

        return call

    for name in ("plot_queues", "plot_returns", "plot_stocks", "plot_who_waits"):
        monkeypatch.setattr(standard, name, watched(name, getattr(standard, name)))
    monkeypatch.setattr(Figure, "draw", watched("draw", Figure.draw))
    (gc.enable if enabled else gc.disable)()
    if frozen:
        gc.freeze()
    try:
        figures = standard_figures(daily_stage(), returns(), stocks(), EVENTS, who_waits())
        for name, fig in figures.items():
            fig.savefig(tmp_path / f"{name}.png", dpi=30)
        assert [w for w, _, _ in seen].count("draw") == 4 and len(seen) == 8
        assert all(not on and held for _, on, held in seen), seen
        assert gc.isenabled() == enabled
        assert (gc.get_freeze_count() > 0) == frozen  # objects frozen by the caller stay
    finally:
        gc.unfreeze()
        gc.enable()


def test_the_experiment_figures_are_imported_only_when_asked_for() -> None:
    """``repatsim run`` imports simulation.plots without the experiment figures; asking the
    package for them still gives them, and for anything else an AttributeError."""
    import subprocess

    code = ("import sys, simulation.plots as p; a = 'simulation.plots.experiments' in sys.modules;"
            " f = p.plot_sizing; print(a, f.__module__, hasattr(p, 'nothing'))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "simulation.plots.experiments", "False"]
