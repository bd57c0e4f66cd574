"""The time figures and who-waits figure draw what their frames hold, the way a reader needs it:
one panel per stage with something to show (the rest named in a note), bands across
replications, policy events marked on every time axis, one colour per group in every figure,
thousands separators and one date style (small hand-made frames, no simulation)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import Collection
from matplotlib.figure import Figure

from simulation import parse_scenario
from simulation.engine.records import STATES
from simulation.plots import (
    as_events,
    count_label,
    crossing_colour,
    group_colour,
    plot_queues,
    plot_returns,
    plot_stocks,
    plot_waits,
    plot_who_waits,
    policy_events,
    standard_figures,
)
from simulation.plots.events import strip_level, strip_rows
from simulation.plots.style import daily_series, nan_quantiles
from tests.builders import POP, pop_with_divert

DAYS = pd.date_range("2025-03-25", periods=12, freq="D")
REPS = 3
EVENTS = [
    (pd.Timestamp("2025-03-31"), "deadline: acc", "deadline"),
    (pd.Timestamp("2025-03-27"), "A closed", "closure", pd.Timestamp("2025-03-29")),
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- hand-made frames
def daily_stage() -> pd.DataFrame:
    """Crossing A (stages s1 and s2) and B (s1, nobody ever queues there), three replications."""
    rows = []
    for rep in range(REPS):
        for i, date in enumerate(DAYS):
            for crossing, stage, queue, wait in [("A", "s1", 100.0 * i + rep, 0.5 + 0.1 * i),
                                                 ("A", "s2", 5.0 + rep, 0.2 + 0.01 * rep),
                                                 ("B", "s1", 0.0, np.nan)]:  # fmt: skip
                rows.append({"replication": rep, "date": date, "crossing": crossing,
                             "stage": stage, "queue_mean_persons": queue,
                             "wait_mean_hours": wait, "wait_p95_hours": 2 * wait})  # fmt: skip
    return pd.DataFrame(rows)


def returns() -> pd.DataFrame:
    """Two groups, voluntary and deported, thousands a day; deportations from day 6 only (the
    frame has no rows for days without returns)."""
    rows = []
    for rep in range(REPS):
        for i, date in enumerate(DAYS):
            for group, base in [("acc", 1500), ("undocumented", 4000)]:
                rows.append({"replication": rep, "date": date, "crossing": "A", "group": group,
                             "mode": "voluntary", "households": base // 5,
                             "persons": base + 10 * rep})  # fmt: skip
                if i >= 6:
                    rows.append({"replication": rep, "date": date, "crossing": "A",
                                 "group": group, "mode": "deported", "households": 20,
                                 "persons": 100 + rep})  # fmt: skip
    return pd.DataFrame(rows)


def stocks() -> pd.DataFrame:
    """Two groups leaving Pakistan; nobody is ever detained."""
    rows = []
    for rep in range(REPS):
        for i, date in enumerate(DAYS):
            for group, start in [("acc", 800_000), ("undocumented", 600_000)]:
                gone = 5000 * i + rep
                rows.append({"replication": rep, "date": date, "group": group,
                             "in_pakistan": start - gone, "detained": 0, "travelling": 300,
                             "at_crossing": 50 + rep, "returned": gone - 350})  # fmt: skip
    return pd.DataFrame(rows)


def who_waits() -> pd.DataFrame:
    """Deportees wait half an hour and others two hours at A/s1; everyone waits alike at A/s2."""
    rows = []
    for rep in range(REPS):
        for stage, waits in [("s1", {"voluntary": 2.0, "deported": 0.5}),
                             ("s2", {"voluntary": 0.1, "deported": 0.1})]:  # fmt: skip
            for group in ("acc", "undocumented"):
                for mode, wait in waits.items():
                    for vulnerable in (False, True):
                        rows.append({"replication": rep, "crossing": "A", "stage": stage,
                                     "group": group, "mode": mode, "vulnerable": vulnerable,
                                     "households": 50, "persons": 300,
                                     "mean_wait_hours": wait + 0.01 * rep,
                                     "p95_wait_hours": 2 * wait})  # fmt: skip
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- what is on a figure
def panels(fig: Figure) -> list[Axes]:
    """The data panels (not the event strips)."""
    return [ax for ax in fig.axes if ax.get_gid() != "events"]


def data_lines(ax: Axes) -> list[Artist]:
    """The lines drawn from the data (not event marks nor date tick marks)."""
    return [line for line in ax.lines if line.get_gid() not in ("event", "ticks")]


def event_marks(ax: Axes) -> list[object]:
    """The events marked on ``ax``: one per line or span (drawn as collections)."""
    return [path for a in ax.get_children() if a.get_gid() == "event"
            for path in (a.get_paths() if isinstance(a, Collection) else [a])]  # fmt: skip


def notes(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: a.get_gid() == "note")]


def legend_colours(fig: Figure) -> dict[str, str]:
    """Label -> colour of the entries of the figure's (or its only axes') legend."""
    legend = fig.legends[0] if fig.legends else fig.axes[0].get_legend()
    return {
        t.get_text(): matplotlib.colors.to_hex(h.get_color())
        for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
    }


# ---------------------------------------------------------------- queues and waits
def test_queues_are_one_panel_per_stage_with_a_queue_and_the_rest_named_in_a_note() -> None:
    fig = plot_queues(daily_stage(), waits=False)
    shown = panels(fig)
    assert [ax.get_title(loc="left") for ax in shown] == ["s1", "s2"]
    for ax in shown:
        assert len(data_lines(ax)) == 1  # the mean of A (B never has a queue)
        assert len(ax.collections) == 1  # its 5-95% band
    assert any("B: s1" in n for n in notes(fig))
    assert shown[0].get_xlim() == shown[1].get_xlim()  # one date axis


def test_each_crossing_is_a_line_of_its_own_colour_in_the_panel_of_a_stage() -> None:
    frame = daily_stage()
    frame.loc[frame["crossing"] == "B", "queue_mean_persons"] = 7.0
    s1 = panels(plot_queues(frame, waits=False))[0]
    lines = data_lines(s1)
    assert [matplotlib.colors.to_hex(line.get_color()) for line in lines] == [
        crossing_colour("A"), crossing_colour("B")]  # fmt: skip
    assert np.allclose(lines[1].get_ydata(), 7.0)
    assert set(legend_colours(s1.figure)) == {"A", "B"}
    assert crossing_colour("A") != crossing_colour("B")
    assert crossing_colour("torkham") not in {group_colour(g) for g in ("acc", "undocumented")}


def test_queues_on_one_axes_have_a_legend_entry_per_visible_line() -> None:
    fig, ax = plt.subplots()
    assert plot_queues(daily_stage(), ax) is fig
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["A / s1", "A / s2"] == [line.get_label() for line in data_lines(ax)]
    assert any("B: s1" in n for n in notes(fig))


def test_waits_stand_beside_the_queues_of_the_same_stage() -> None:
    fig = plot_queues(daily_stage())
    shown = panels(fig)
    queueing = "persons queueing (daily time-weighted mean)"
    assert [(ax.get_title(loc="left"), ax.get_title(loc="right")) for ax in shown] == [
        ("s1", queueing), ("s1", "hours waited"),
        ("s2", queueing), ("s2", "hours waited")]  # fmt: skip
    assert [len(data_lines(ax)) for ax in shown] == [1, 2, 1, 2]  # waits: mean and 95th pct
    waits = data_lines(shown[1])[0].get_ydata()
    assert np.allclose(waits, 0.5 + 0.1 * np.arange(len(DAYS)))
    assert set(legend_colours(fig)) == {"A", "dashed: 95th percentile of hours waited"}


def test_the_band_spans_the_replications_and_the_line_is_their_mean() -> None:
    ax = panels(plot_queues(daily_stage()))[0]
    y = data_lines(ax)[0].get_ydata()
    assert np.allclose(y, 100.0 * np.arange(len(DAYS)) + 1.0)  # mean of replications 0, 1, 2
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(0.1) and band.max() == pytest.approx(1100 + 1.9)


def test_waits_skip_stages_where_nobody_waited_and_show_the_95th_percentile() -> None:
    fig = plot_waits(daily_stage())
    assert len(panels(fig)) == 2
    assert all(len(data_lines(ax)) == 2 for ax in panels(fig))  # mean and 95th percentile
    assert any("B: s1" in n for n in notes(fig))


# ---------------------------------------------------------------- events
@pytest.mark.parametrize("draw", [plot_queues, plot_waits])
def test_stage_events_are_marked_on_the_panels_where_their_crossing_is_drawn(draw) -> None:
    events = as_events(EVENTS).assign(crossing=["B", ""])  # the closure is B's, the deadline all
    frame = daily_stage()
    frame.loc[frame["crossing"] == "B", ["queue_mean_persons", "wait_mean_hours"]] = 1.0
    fig = draw(frame, events=events)
    marks = {ax.get_title(loc="left"): len(event_marks(ax)) for ax in panels(fig)}
    assert marks == {"s1": 2, "s2": 1}  # s2: only A is drawn there, so not B's closure
    strip = [ax for ax in fig.axes if ax.get_gid() == "events"]
    texts = [t.get_text() for ax in strip for t in ax.texts]
    assert any("deadline: acc" in t for t in texts) and any("A closed" in t for t in texts)


TIME_FIGURES = [
    (plot_queues, daily_stage),
    (plot_waits, daily_stage),
    (plot_returns, returns),
    (plot_stocks, stocks),
]


@pytest.mark.parametrize("draw, frame", TIME_FIGURES)
def test_every_time_figure_marks_the_events_and_shows_dates_alike(draw, frame) -> None:
    bare = draw(frame())
    assert all(not event_marks(ax) for ax in panels(bare))
    assert not [ax for ax in bare.axes if ax.get_gid() == "events"]
    fig = draw(frame(), events=EVENTS)
    for ax in panels(fig):
        assert len(event_marks(ax)) == 2
        assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    _, ax = plt.subplots()
    draw(frame(), ax, events=EVENTS)
    assert len(event_marks(ax)) == 2
    assert [t.get_text() for t in ax.child_axes[0].texts] == [" 27-28 Mar A closed",
                                                               " 31 Mar deadline: acc"]  # fmt: skip


def test_labels_of_close_events_go_to_different_rows_and_run_left_at_the_end() -> None:
    events = as_events([(DAYS[0], "first", "deadline"), (DAYS[1], "second", "deadline"),
                        (DAYS[-1], "at the end", "capacity_change")])  # fmt: skip
    rows = strip_rows(events, DAYS[0], DAYS[-1], width_in=8.0)
    assert strip_level(rows[0]) != strip_level(rows[1])
    assert rows[2] < 0  # runs left from its date


def test_policy_events_of_a_scenario() -> None:
    text = (
        pop_with_divert(2, "{dist: fixed, value: 5.0}")
        + """
timeline:
  - {event: deadline_extension, date: 2025-03-20, group: acc, new_deadline: 2025-04-10}
  - {event: closure, date: 2025-04-15, crossing: gate, end: 2025-04-17}
  - {event: capacity_change, date: 2025-04-01, crossing: gate, stage: desk, servers: 30}
  - {event: crackdown_change, date: 2025-04-20, arrest_capacity_persons_per_day: 1200}
  - {event: opening_hours, date: 2025-04-05, crossing: other, open_hour: 8, close_hour: 16}
"""
    )
    events = policy_events(parse_scenario(text))
    got = {(f"{r.date:%m-%d}", r.kind, r.crossing) for r in events.itertuples()}
    assert got == {
        ("03-05", "closure", "gate"), ("03-20", "deadline_extension", ""),
        ("04-10", "deadline", ""), ("04-11", "crackdown_start", ""),
        ("04-15", "closure", "gate"), ("04-01", "capacity_change", "gate"),
        ("04-20", "crackdown_change", ""), ("04-05", "opening_hours", "other"),
    }  # fmt: skip
    closures = events[events["kind"] == "closure"]
    assert list(closures["end"].dt.strftime("%m-%d")) == ["03-21", "04-18"]  # day after the last
    assert "arrest capacity 1,200/day" in set(events["label"])


def test_policy_events_show_enforcement_and_camp_events() -> None:
    """A campaign and a no-adverse-action period are spans to the day after their last day;
    camp closures, holding and transport changes are dated lines."""
    text = (
        pop_with_divert(2, "{dist: fixed, value: 5.0}")
        .replace(
            "crackdown:\n",
            """crackdown:
  campaigns: [{name: sweep, groups: [acc], from: 2025-03-10, to: 2025-03-12,
               arrest_rate_per_day: 0.1}]
""",
            1,
        )
        .replace("    deadline:", "    camps: {share: 0.5}\n    deadline:", 1)
        + """
timeline:
  - {event: no_adverse_action, date: 2025-03-05, end: 2025-03-07, group: acc}
  - {event: camp_closure, date: 2025-03-15, group: acc, share: 0.5, hazard_per_day: 0.1}
  - {event: holding_change, date: 2025-03-16, capacity_persons: 900}
  - {event: transport_change, date: 2025-03-17, departures_per_day: 2}
"""
    )
    events = policy_events(parse_scenario(text)).set_index("kind")
    spans = {k: (f"{events.loc[k, 'date']:%m-%d}", f"{events.loc[k, 'end']:%m-%d}")
             for k in ("campaign", "no_adverse_action")}  # fmt: skip
    assert spans == {"campaign": ("03-10", "03-13"), "no_adverse_action": ("03-05", "03-08")}
    assert events.loc["camp_closure", "label"] == "acc camps closing (50% of residents)"
    assert events.loc["holding_change", "label"] == "holding 900 persons"
    assert events.loc["transport_change", "label"] == "convoys 2 a day"


def test_policy_events_name_every_group_with_the_same_deadline_once() -> None:
    two = POP.replace("crackdown:", POP[POP.index("  acc:") : POP.index("crackdown:")].replace(
        "  acc:", "  undocumented:") + "crackdown:", 1)  # fmt: skip
    events = policy_events(parse_scenario(two))
    assert list(events["label"]) == ["deadline: acc, undocumented",
                                     "arrests begin: acc, undocumented"]  # fmt: skip


def test_events_must_have_a_date_a_label_and_a_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        as_events(pd.DataFrame({"date": DAYS[:1], "label": ["x"]}))
    assert as_events(None).empty


# ---------------------------------------------------------------- returns and stocks
def test_returns_have_a_panel_per_mode_each_with_a_banded_line_per_group() -> None:
    fig = plot_returns(returns())
    shown = panels(fig)
    assert [ax.get_title(loc="left") for ax in shown] == ["all modes", "voluntary", "deported"]
    assert len(data_lines(shown[0])) == 3  # acc, undocumented, total
    for ax in shown[1:]:
        assert len(data_lines(ax)) == 2 and len(ax.collections) == 2
    deported = data_lines(shown[2])[0].get_ydata()
    assert list(deported[:6]) == [0.0] * 6  # days without returns are zero, not missing
    assert set(legend_colours(fig)) == {"acc", "undocumented", "total"}


def test_returns_of_one_mode_have_no_panel_of_all_modes() -> None:
    voluntary = returns().query("mode == 'voluntary'")
    assert [ax.get_title(loc="left") for ax in panels(plot_returns(voluntary))] == ["voluntary"]


def test_counts_have_thousands_separators() -> None:
    for fig in (plot_returns(returns()), plot_stocks(stocks())):
        fig.canvas.draw()
        labels = [t.get_text() for t in panels(fig)[0].get_yticklabels()]
        assert any("," in label for label in labels), labels
    values = (-1250, 2.5, 0.05, 0.15000000000000002, 0.025, 0.0005, 1 / 3, 1234.56789012)
    assert [count_label(v) for v in values] == [
        "-1,250", "2.5", "0.05", "0.15", "0.025", "0.0005", "0.333", "1,235"]  # fmt: skip


def test_stocks_leave_out_states_nobody_is_in_and_say_so() -> None:
    fig = plot_stocks(stocks())
    titles = [ax.get_title(loc="left") for ax in panels(fig)]
    assert len(titles) == len(STATES) - 1 and not any("detained" in t for t in titles)
    assert any("detained" in n for n in notes(fig))
    assert all(len(data_lines(ax)) == 2 for ax in panels(fig))


def test_each_group_keeps_its_colour_in_every_figure() -> None:
    figures = [plot_returns(returns()), plot_stocks(stocks()), plot_who_waits(who_waits())]
    for group in ("acc", "undocumented"):
        colours = {legend_colours(fig)[group] for fig in figures}
        assert colours == {group_colour(group)}
    assert group_colour("acc") != group_colour("undocumented")
    assert group_colour("some new group") == group_colour("some new group")
    one, ax = plt.subplots()
    plot_returns(returns(), ax)
    assert legend_colours(one)["acc deported"] == group_colour("acc")
    for fig in figures:  # every line drawn is in a colour its legend explains
        drawn = {matplotlib.colors.to_hex(line.get_color()) for ax in panels(fig)
                 for line in data_lines(ax)}  # fmt: skip
        assert group_colour("acc") in drawn and drawn <= set(legend_colours(fig).values())


def test_empty_frames_give_a_figure_saying_there_is_nothing() -> None:
    empty = pd.DataFrame(columns=["replication", "date", "crossing", "group", "mode", "persons"])
    fig = plot_returns(empty)
    assert isinstance(fig, Figure) and any("nobody returned" in n for n in notes(fig))


# ---------------------------------------------------------------- who waits
def test_who_waits_shows_only_stages_where_classes_wait_differently() -> None:
    fig = plot_who_waits(who_waits())
    (panel,) = panels(fig)
    assert panel.get_title(loc="left") == "A · s1"
    assert [t.get_text() for t in panel.get_yticklabels()] == [
        "voluntary", "voluntary, vulnerable", "deported", "deported, vulnerable"]  # fmt: skip
    dots = np.concatenate([line.get_xdata() for line in panel.lines if line.get_marker() == "o"])
    assert len(dots) == 8  # two groups in four classes
    assert {round(float(x), 2) for x in dots} == {2.01, 0.51}
    (bars,) = panel.collections  # a 5-95% bar per dot, around it
    assert len(bars.get_segments()) == 8
    assert any("A s2" in n for n in notes(fig))


def test_who_waits_shows_every_stage_when_all_classes_wait_alike_and_says_so() -> None:
    alike = who_waits().query("stage == 's2'")
    (panel,) = panels(plot_who_waits(alike))
    assert panel.get_title(loc="left") == "A · s2"
    assert any("At every stage" in n for n in notes(panel.figure))


def test_who_waits_on_one_axes_or_chosen_stages() -> None:
    fig, ax = plt.subplots()
    assert plot_who_waits(who_waits(), ax, stages=[("A", "s1"), ("A", "s2")]) is fig
    assert len(ax.get_yticklabels()) == 8
    assert set(legend_colours(fig)) == {"acc", "undocumented", "all households"}


# ---------------------------------------------------------------- the standard set
def test_standard_figures_keep_the_old_call_and_add_events_and_who_waits() -> None:
    old = standard_figures(daily_stage(), returns(), stocks())
    assert set(old) == {"queues", "returns", "stocks"}
    new = standard_figures(daily_stage(), returns(), stocks(), EVENTS, who_waits())
    assert set(new) == {*old, "who_waits"}
    for name in ("queues", "returns", "stocks"):
        assert all(event_marks(ax) for ax in panels(new[name])), name
    no_stocks = standard_figures(daily_stage(), returns(), stocks().iloc[0:0])
    assert "stocks" not in no_stocks


def test_a_figure_can_be_drawn_into_a_given_figure() -> None:
    fig = plt.figure(layout="constrained")
    assert plot_returns(returns(), fig=fig, events=EVENTS) is fig
    assert len(panels(fig)) == 3


# ---------------------------------------------------------------- helpers
def test_daily_series_fill_missing_days_and_keep_missing_waits_missing() -> None:
    frame = daily_stage().query("not (replication == 1 and date == @DAYS[3])")
    dates, series, queue = daily_series(frame, ["crossing", "stage"], "queue_mean_persons")
    assert list(dates) == list(DAYS) and series == [("A", "s1"), ("A", "s2"), ("B", "s1")]
    assert queue.shape == (3, REPS, len(DAYS)) and queue[0, 1, 3] == 0.0
    waits = daily_series(frame, ["crossing", "stage"], "wait_mean_hours", np.nan)[2]
    assert np.isnan(waits[0, 1, 3]) and np.isnan(waits[2]).all()


def test_quantiles_ignore_missing_values_like_numpy() -> None:
    values = np.random.default_rng(7).normal(size=(3, 6, 20))
    values[values > 1.0] = np.nan
    values[1, :, 4] = np.nan
    ours = nan_quantiles(values, [0.05, 0.5, 0.95])
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        theirs = np.nanquantile(values, [0.05, 0.5, 0.95], axis=-2)
    assert all(np.allclose(a, b, equal_nan=True) for a, b in zip(ours, theirs, strict=True))
