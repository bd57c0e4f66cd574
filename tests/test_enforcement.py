"""Enforcement mechanisms: campaigns, lapsing status, no adverse action, pauses while a crossing
is shut, dated holding and transport.

Each effect is checked on a tiny scenario whose daily arrests can be computed by hand: households
of exactly 2 persons, no voluntary returns, arrest rate 1 (every targeted household at home is a
target) and a fixed capacity in persons, so a day's arrests are min(capacity, free holding space,
persons at home) rounded down to whole households.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import yaml

from simulation import Scenario, ScenarioError, load_scenario, parse_scenario
from simulation.engine.population import draw_group
from simulation.engine.records import DEPORTED, DETAINED, IN_PAKISTAN, TRAVELLING
from simulation.engine.run import run_model
from simulation.engine.streams import Streams
from tests.builders import START, day
from tests.conftest import ROOT, shrink

GATE = {"gate": {"share": 1.0, "travel_hours": {"dist": "fixed", "value": 1.0}}}


def _group(persons: int, regions: dict[str, float], **extra: Any) -> dict[str, Any]:
    """A group of 2-person households that never return of their own accord."""
    return {
        "persons": persons,
        "household_size": {"values": [2]},
        "regions": {r: {"share": share, "crossings": GATE} for r, share in regions.items()},
        "voluntary": {"schedule": [{"from": START, "rate_per_day": 0.0}]},
        **extra,
    }


def _scenario(
    crackdown: dict[str, Any] | None = None,
    populations: dict[str, Any] | None = None,
    timeline: list[dict[str, Any]] = (),  # type: ignore[assignment]
    closures: list[tuple[int, int]] = (),  # type: ignore[assignment]
    text: bool = False,
) -> Any:
    """The tiny scenario (20 days), as a Scenario or (``text``) as its YAML text."""
    spec: dict[str, Any] = {
        "arrest_rate_per_day": 1.0,
        "arrest_capacity_persons_per_day": 20,
        "holding": {"capacity_persons": 10_000, "dwell_hours": {"dist": "fixed", "value": 1.0}},
        "transport": {
            "vehicle_capacity_persons": 50,
            "departures_per_day": 4,
            "travel_hours": {"dist": "fixed", "value": 1.0},
        },
    }
    gate: dict[str, Any] = {
        "stages": {
            "desk": {
                "servers": 50,
                "service_minutes": {"per_household": {"dist": "fixed", "value": 1}},
            }
        }
    }
    if closures:
        gate["closures"] = [{"start": day(a), "end": day(b)} for a, b in closures]
    data = {
        "name": "enforce",
        "calendar": {"start": START, "end": day(19)},
        "populations": populations or {"por": _group(400, {"kp": 1.0}, status_lapses=day(0))},
        "crackdown": {**spec, **(crackdown or {})},
        "crossings": {"gate": gate},
        "timeline": list(timeline),
    }
    dumped = yaml.safe_dump(data, sort_keys=False)
    return dumped if text else parse_scenario(dumped, "enforce.yaml")


def _arrests(scenario: Scenario, seed: int = 1, group: int | None = None) -> np.ndarray:
    """Persons arrested on each day (of one group index, or all)."""
    f = run_model(scenario, seed).flows
    mask = (f["src"] == IN_PAKISTAN) & (f["dst"] == DETAINED)
    if group is not None:
        mask &= f["group"] == group
    days = (f["time"][mask] // 24).astype(int)
    return np.bincount(days, f["persons"][mask], minlength=scenario.days).astype(int)


# ---------------------------------------------------------------- status that lapses
def test_a_lapsed_status_is_arrested_before_any_deadline() -> None:
    # lapse on day 0: from day 1, 20 persons a day until the 400 are all held (day 20 is past)
    per_day = _arrests(_scenario())
    assert per_day.tolist() == [0] + [20] * 19


def test_a_status_lapsed_before_the_calendar_is_arrested_from_the_first_day() -> None:
    populations = {"por": _group(400, {"kp": 1.0}, status_lapses=day(-30))}
    assert _arrests(_scenario(populations=populations))[:3].tolist() == [20, 20, 20]


def test_a_status_extension_moves_the_lapse_from_its_announcement() -> None:
    populations = {"por": _group(400, {"kp": 1.0}, status_lapses=day(3), deadline=day(15))}
    extension = {"event": "status_extension", "date": day(2), "group": "por", "new_lapse": day(6)}
    assert _arrests(_scenario(populations=populations))[:8].tolist() == [0] * 4 + [20] * 4
    per_day = _arrests(_scenario(populations=populations, timeline=[extension]))
    assert per_day[:8].tolist() == [0] * 7 + [20]  # lapse moved from day 3 to day 6


# ---------------------------------------------------------------- no adverse action
def test_no_adverse_action_stops_general_and_campaign_arrests_on_its_days() -> None:
    campaign = {"name": "sweep", "from": day(0), "arrest_rate_per_day": 1.0,
                "arrest_capacity_persons_per_day": 10}  # fmt: skip
    shield = {"event": "no_adverse_action", "date": day(5), "end": day(7)}
    per_day = _arrests(_scenario({"campaigns": [campaign]}, timeline=[shield]))
    assert per_day[:10].tolist() == [10] + [30] * 4 + [0] * 3 + [30] * 2


def test_no_adverse_action_for_one_group_leaves_the_others() -> None:
    populations = {
        "acc": _group(400, {"kp": 1.0}, status_lapses=day(0)),
        "por": _group(400, {"kp": 1.0}, status_lapses=day(0)),
    }
    shield = {"event": "no_adverse_action", "date": day(1), "end": day(2), "group": "por"}
    s = _scenario(populations=populations, timeline=[shield])
    por = _arrests(s, group=s.group_names.index("por"))
    acc = _arrests(s, group=s.group_names.index("acc"))
    # alone on days 1-2, acc gets the whole capacity; on day 3 the 20 persons are split in
    # proportion to the targets (180 and 200 households at home): 20*180//380 = 9 persons for
    # acc (4 households of 2, 8 persons), 20*200//380 = 10 for por
    assert por[:4].tolist() == [0, 0, 0, 10]
    assert acc[:4].tolist() == [0, 20, 20, 8]


# ---------------------------------------------------------------- campaigns
def test_a_campaign_arrests_its_groups_and_regions_on_its_dates_only() -> None:
    populations = {
        "acc": _group(400, {"punjab": 1.0}),  # no deadline, no lapse: only campaigns
        "por": _group(400, {"kp": 1.0}),
    }
    campaign = {"name": "kp", "regions": ["kp"], "from": day(2), "to": day(5),
                "arrest_rate_per_day": 1.0, "arrest_capacity_persons_per_day": 30}  # fmt: skip
    s = _scenario({"campaigns": [campaign]}, populations=populations)
    assert _arrests(s, group=s.group_names.index("acc")).sum() == 0
    por = _arrests(s, group=s.group_names.index("por"))
    assert por.tolist() == [0, 0] + [30] * 4 + [0] * 14


def _persons_in_region(scenario: Scenario, seed: int, region: int) -> int:
    """Persons of group ``por`` living in ``region`` (its index), as the run with ``seed``
    draws them (the group's households stream; departures do not move them)."""
    streams = Streams(seed)
    households = streams.rng("population", "por", "households")
    draw = draw_group(scenario, "por", households, streams.rng("x", "departures"), streams)
    return int(draw.sizes[draw.region == region].sum())


def test_a_campaign_takes_every_household_of_its_region_at_rate_one() -> None:
    populations = {"por": _group(2000, {"kp": 0.3, "punjab": 0.7})}
    campaign = {"name": "kp", "regions": ["kp"], "from": day(1), "to": day(1),
                "arrest_rate_per_day": 1.0}  # fmt: skip
    s = _scenario({"campaigns": [campaign]}, populations=populations)
    in_kp = _persons_in_region(s, 1, 0)
    assert 0 < in_kp < 2000
    assert _arrests(s).tolist() == [0, in_kp] + [0] * 18


def test_the_general_crackdown_arrests_first_and_campaigns_share_the_holding_space() -> None:
    populations = {
        "acc": _group(400, {"kp": 1.0}),  # only the campaign arrests acc
        "por": _group(400, {"kp": 1.0}, status_lapses=day(0)),  # only the general one, por
    }
    holding = {"capacity_persons": 30, "dwell_hours": {"dist": "fixed", "value": 1000.0}}
    campaign = {"name": "sweep", "groups": ["acc"], "from": day(1), "arrest_rate_per_day": 1.0,
                "arrest_capacity_persons_per_day": 100}  # fmt: skip
    s = _scenario({"holding": holding, "campaigns": [campaign]}, populations=populations)
    # day 1: the general crackdown takes its 20 of por, the campaign the 10 places left (acc);
    # the campaign does not use the general capacity of 20; from day 2 holding is full
    assert _arrests(s, group=s.group_names.index("por"))[:3].tolist() == [0, 20, 0]
    assert _arrests(s, group=s.group_names.index("acc"))[:3].tolist() == [0, 10, 0]


# ---------------------------------------------------------------- pause while shut
def test_pause_when_closed_stops_arrests_and_convoys_while_the_crossing_is_shut() -> None:
    holding = {"capacity_persons": 10_000, "dwell_hours": {"dist": "fixed", "value": 30.0}}
    s = _scenario({"holding": holding, "pause_when_closed": True}, closures=[(3, 6)])
    raw = run_model(s, 1)
    f = raw.flows
    per_day = _arrests(s)
    assert per_day[:9].tolist() == [0, 20, 20, 0, 0, 0, 0, 20, 20]
    leave = f["time"][(f["src"] == DETAINED) & (f["dst"] == TRAVELLING)]
    # arrested day 1 at 9:00 + 30 h: the 15:00 convoy of day 2; those of day 2 wait to day 7
    assert sorted(set(leave[leave < 24 * 8].tolist())) == [24 * 2 + 15, 24 * 7 + 3]
    unpaused = _arrests(_scenario({"holding": holding}, closures=[(3, 6)]))
    assert unpaused[:9].tolist() == [0] + [20] * 8


def test_a_household_whose_crossing_is_shut_keeps_its_place() -> None:
    # kp households use the gate, punjab households the other crossing; the gate is shut on
    # day 1, arrests are unlimited at rate 1: day 1 takes every punjab household, and day 2
    # every kp household, which the crackdown passed over but did not skip
    other = {"other": {"share": 1.0, "travel_hours": {"dist": "fixed", "value": 1.0}}}
    data = yaml.safe_load(
        _scenario(
            {"pause_when_closed": True, "arrest_capacity_persons_per_day": None},
            populations={"por": _group(2000, {"kp": 0.4, "punjab": 0.6}, status_lapses=day(0))},
            closures=[(1, 1)],
            text=True,
        )
    )
    data["populations"]["por"]["regions"]["punjab"]["crossings"] = other
    data["crossings"]["other"] = data["crossings"]["gate"] | {"closures": []}
    s = parse_scenario(yaml.safe_dump(data, sort_keys=False))
    in_punjab = _persons_in_region(s, 2, 1)
    assert 0 < in_punjab < 2000
    assert _arrests(s, seed=2).tolist() == [0, in_punjab, 2000 - in_punjab] + [0] * 17


# ---------------------------------------------------------------- dated holding and transport
def test_holding_change_limits_arrests_from_its_date() -> None:
    holding = {"capacity_persons": 1000, "dwell_hours": {"dist": "fixed", "value": 1000.0}}
    change = {"event": "holding_change", "date": day(3), "capacity_persons": 50}
    per_day = _arrests(_scenario({"holding": holding}, timeline=[change]))
    assert per_day[:6].tolist() == [0, 20, 20, 10, 0, 0]  # 40 held, 10 places left on day 3


def test_transport_change_sets_departures_and_vehicle_size_from_its_date() -> None:
    change = {"event": "transport_change", "date": day(3), "departures_per_day": 1,
              "vehicle_capacity_persons": 10}  # fmt: skip
    s = _scenario(timeline=[change])
    f = run_model(s, 1).flows
    leaving = (f["src"] == DETAINED) & (f["dst"] == TRAVELLING)
    times, persons = f["time"][leaving], f["persons"][leaving]
    before = np.unique(times[times < 72])
    assert set((before % 24).tolist()) == {15.0}  # 4 a day (3, 9, 15, 21 h), ready at 10
    late = times >= 72
    assert set((times[late] % 24).tolist()) == {12.0}  # once a day, at noon
    for t in np.unique(times[late]):
        assert persons[times == t].sum() == 10  # one vehicle of 10 persons


def test_no_convoys_until_transport_starts_then_holding_empties() -> None:
    """No departures (0 a day) until day 3, then 4 a day (03:00, 09:00, 15:00, 21:00): the
    lapse on day 0 brings 20 arrests a day at 09:00 from day 1, ready an hour later; nobody
    leaves holding before 72 h; the first convoy (03:00 on day 3, vehicles of 50) takes the 40
    held on days 1-2; day 3's 20, ready at 10:00, leave at 15:00."""
    transport = {"vehicle_capacity_persons": 50, "departures_per_day": 0,
                 "travel_hours": {"dist": "fixed", "value": 1.0}}  # fmt: skip
    start = {"event": "transport_change", "date": day(3), "departures_per_day": 4}
    s = _scenario({"transport": transport}, timeline=[start])
    f = run_model(s, 1).flows
    leaving = (f["src"] == DETAINED) & (f["dst"] == TRAVELLING)
    times, persons = f["time"][leaving], f["persons"][leaving]
    assert times.min() == 75.0
    assert persons[times == 75.0].sum() == 40
    assert 81.0 not in times
    assert persons[times == 87.0].sum() == 20


# ---------------------------------------------------------------- validation
RULES = [
    ({"campaigns": [{"name": "a", "groups": ["pro"], "from": day(1), "arrest_rate_per_day": 0.1}]},
     [], "crackdown.campaigns.0.groups.0: unknown group; did you mean 'por'?"),
    ({"campaigns": [{"name": "a", "regions": ["kq"], "from": day(1), "arrest_rate_per_day": 0.1}]},
     [], "crackdown.campaigns.0.regions.0: unknown region; expected one of: kp (got 'kq')"),
    ({"campaigns": [{"name": "a", "from": day(3), "to": day(1), "arrest_rate_per_day": 0.1}]},
     [], "crackdown.campaigns.0.to: must not be before from (2025-01-04)"),
    ({"campaigns": [{"name": "a", "from": day(-3), "arrest_rate_per_day": 0.1}]},
     [], "crackdown.campaigns.0.from: must not be before the calendar start"),
    ({"campaigns": [{"name": "a", "from": day(1), "arrest_rate_per_day": 0.1}] * 2},
     [], "crackdown.campaigns.1.name: campaign names must be unique"),
    ({"campaigns": [{"name": "a b", "from": day(1), "arrest_rate_per_day": 0.1}]},
     [], "crackdown.campaigns.0.name"),
    ({}, [{"event": "transport_change", "date": day(2)}],
     "timeline.0: give departures_per_day and/or vehicle_capacity_persons"),
    ({}, [{"event": "transport_change", "date": day(2), "vehicle_capacity_persons": 1}],
     "populations.por.household_size.values: largest household must fit a deportation vehicle"),
    ({}, [{"event": "no_adverse_action", "date": day(4), "end": day(2)}],
     "timeline.0.end: must not be before date (2025-01-05)"),
    ({}, [{"event": "no_adverse_action", "date": day(4), "end": day(5), "group": "pr"}],
     "timeline.0.group: unknown group; did you mean 'por'?"),
    ({}, [{"event": "holding_change", "date": day(-1), "capacity_persons": 5}],
     "timeline.0.date: must not be before the calendar start"),
    ({}, [{"event": "status_extension", "date": day(2), "group": "por", "new_lapse": day(-2)}],
     "timeline.0.new_lapse: must not be before the calendar start"),
]  # fmt: skip


@pytest.mark.parametrize(("crackdown", "timeline", "message"), RULES)
def test_enforcement_rules_give_one_line(
    crackdown: dict[str, Any], timeline: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)) as info:
        _scenario(crackdown, timeline=timeline)
    text = str(info.value)
    assert text.startswith("enforce.yaml:") and "\n" not in text


def test_a_lapsing_status_needs_a_crackdown_and_an_extension_needs_a_lapse() -> None:
    data = yaml.safe_load(_scenario(text=True))
    del data["crackdown"]
    with pytest.raises(ScenarioError, match="status_lapses: a lapsing status needs a crackdown"):
        parse_scenario(yaml.safe_dump(data, sort_keys=False), "enforce.yaml")
    populations = {"por": _group(400, {"kp": 1.0})}
    extension = {"event": "status_extension", "date": day(2), "group": "por", "new_lapse": day(6)}
    with pytest.raises(ScenarioError, match="the group's status does not lapse"):
        _scenario(populations=populations, timeline=[extension])


# ---------------------------------------------------------------- inert changes
INERT = [
    {"crackdown": {"campaigns": [
        {"name": "idle", "from": "2025-04-01", "arrest_rate_per_day": 0.0},
        {"name": "late", "groups": ["acc"], "from": "2025-07-01", "arrest_rate_per_day": 0.5},
    ]}},
    {"timeline": [
        {"event": "no_adverse_action", "date": "2025-02-01", "end": "2025-03-31", "group": "acc"},
        {"event": "holding_change", "date": "2025-03-01", "capacity_persons": 2800},
        {"event": "transport_change", "date": "2025-03-01", "departures_per_day": 0},
    ]},
]  # fmt: skip


@pytest.mark.parametrize("change", INERT, ids=["idle_campaigns", "events_that_change_nothing"])
def test_enforcement_that_never_acts_changes_nothing(change: dict[str, Any]) -> None:
    """Campaigns at rate 0 or after the calendar, a shield for ACC holders before their
    deadline, holding and transport changed to what they were: every frame identical, row for
    row."""
    from tests.test_streams import DEFAULT, _raw, assert_same_frames
    from tests.test_streams import _scenario as variant

    data = _raw(DEFAULT)
    base = variant(data)
    for key, value in change.items():
        if isinstance(value, dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = [*data.get(key, []), *value]
    changed = variant(data)
    assert changed != base
    assert_same_frames(base, changed)


def test_every_arrested_household_is_recorded_as_deported() -> None:
    # the default scenario serves deportees first at some stages, so the registry's columns are
    # read before the first arrest: the run's record of who was deported must still follow
    scenario = shrink(load_scenario(ROOT / "scenarios" / "torkham_2025_acc.yaml"), persons=20000)
    raw = run_model(scenario, seed=2)
    flows = raw.flows
    arrested = (flows["src"] == IN_PAKISTAN) & (flows["dst"] == DETAINED)
    assert arrested.any()
    assert raw.sizes[raw.mode == DEPORTED].sum() == flows["persons"][arrested].sum()
