"""Bad input: every error is one line naming the file, the line, the key path, the bad value and
what is expected; the CLI exits with status 2 and no traceback.

Each case mutates :data:`BASE` (a small valid scenario exercising every section) and pins the
whole message. The expected line is looked up from a marker text, so the cases stay readable.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulation.cli import main
from simulation.scenario.load import ScenarioError, load_scenario

BASE = """\
name: mini
calendar:
  start: 2025-01-01
  end: 2025-01-31
populations:
  acc:
    persons: 1000
    household_size:
      mean: 5.0
      max_persons: 12
    regions:
      north:
        share: 0.6
        crossings:
          gate: {share: 1.0, travel_hours: {dist: fixed, value: 2.0}}
      south:
        share: 0.4
        crossings:
          gate: {share: 0.5, travel_hours: {dist: exponential, mean: 6.0}}
          spare: {share: 0.5, travel_hours: {dist: lognormal, mean: 8.0, sd: 2.0}}
    deadline: 2025-01-15
    voluntary:
      never_share: 0.5
      ramp: {base_per_day: 0.001, peak_per_day: 0.01, ramp_days: 5}
      after_deadline_per_day: 0.002
  por:
    persons: 500
    household_size:
      values: [1, 4, 7]
      weights: [1, 2, 1]
    regions:
      north:
        share: 1.0
        crossings:
          gate: {share: 1.0, travel_hours: {dist: gamma, mean: 5.0, sd: 1.0}}
    voluntary:
      schedule:
        - {from: 2025-01-01, rate_per_day: 0.001}
        - {from: 2025-01-20, rate_per_day: 0.003}
crackdown:
  arrest_rate_per_day: 0.01
  holding:
    capacity_persons: 200
    dwell_hours: {dist: fixed, value: 12.0}
  transport:
    vehicle_capacity_persons: 40
    departures_per_day: 4
    travel_hours: {dist: empirical, values: [2.0, 3.0], weights: [1, 1]}
crossings:
  gate:
    opening_hours: {open_hour: 7, close_hour: 19}
    closures:
      - {start: 2025-01-10, end: 2025-01-12, reason: clashes}
    divert:
      to: spare
      patience_hours: 24
      travel_hours: {dist: fixed, value: 10.0}
    stages:
      exit:
        servers: 2
        servers_schedule:
          - {from: 2025-01-05, servers: 3}
          - {from: 2025-01-20, servers: 4}
        service_minutes:
          per_household: {dist: exponential, mean: 5.0}
          per_person: {dist: fixed, value: 1.0}
        priority: [deported]
      entry:
        servers: 2
        service_minutes:
          per_household:
            dist: gamma
            mean: 5.0
            sd: 2.0
        waiting_capacity_households: 50
  spare:
    stages:
      desk:
        servers: 1
        service_minutes: {per_household: {dist: exponential, mean: 10.0}}
        initial_backlog: {households: 20, group: stranded, household_size: {values: [3]}}
demand:
  - crossing: gate
    group: direct
    unit: persons
    schedule:
      - from: 2025-01-01
        rate_per_day: 10
      - from: 2025-01-15
        rate_per_day: 20
timeline:
  - {event: capacity_change, date: 2025-01-10, crossing: gate, stage: exit, servers: 3}
  - {event: deadline_extension, date: 2025-01-12, group: acc, new_deadline: 2025-01-20}
  - {event: closure, date: 2025-01-25, crossing: spare, end: 2025-01-26}
  - {event: hazard_change, date: 2025-01-05, group: por, multiplier: 2.0}
"""

FOLDER_NAME = (
    "expected a name usable as a folder name: a letter or digit, then up to 79 letters, digits, "
    "'.', '_' or '-' (pattern ^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$)"
)
FINITE = "expected a finite number, not infinity or NaN"
DISTS = "exponential, gamma, lognormal, fixed, empirical"
EVENTS = (
    "deadline_extension, closure, capacity_change, hazard_change, opening_hours, crackdown_change, "
    "status_extension, no_adverse_action, holding_change, transport_change, camp_closure"
)


def mutate(old: str, new: str, text: str = BASE) -> str:
    """``text`` with the one occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def drop_section(name: str, text: str = BASE) -> str:
    """``text`` without the top-level section ``name``."""
    return re.sub(rf"(?ms)^{name}:\n.*?(?=^\S)", "", text, count=1)


def line_of(text: str, marker: str) -> int:
    """1-based line where the one occurrence of ``marker`` (maybe several lines) begins."""
    assert text.count(marker) == 1, f"{marker!r} occurs {text.count(marker)} times"
    return text[: text.index(marker)].count("\n") + 1


def write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def pinned(path: Path, expected: str, overrides: tuple[str, ...] = ()) -> None:
    """Loading ``path`` fails with exactly the one-line message ``expected``."""
    with pytest.raises(ScenarioError, match="^" + re.escape(expected) + "$") as info:
        load_scenario(path, overrides)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------- the base is sound
def test_base_scenario_is_valid(tmp_path):
    scenario = load_scenario(write(tmp_path, BASE, "mini.yaml"))
    assert scenario.name == "mini" and scenario.days == 31
    assert set(scenario.populations) == {"acc", "por"}


def test_valid_file_validates_on_the_command_line(tmp_path, capsys):
    path = write(tmp_path, BASE, "mini.yaml")
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == f"ok: {path} (mini, 31 days)\n" and err == ""


# ---------------------------------------------------------------- one case per rule
# (id, old text, new text, marker on the expected line, key path, message after the key path)
CASES = [
    # unknown keys, with "did you mean"
    (
        "unknown_top_level_key",
        "name: mini\n",
        "name: mini\nnmae: other\n",
        "nmae:",
        "nmae",
        "unknown key 'nmae'; did you mean 'name'?",
    ),
    (
        "unknown_key_in_stage",
        "        servers: 2\n        servers_schedule:",
        "        servrs: 2\n        servers_schedule:",
        "servrs:",
        "crossings.gate.stages.exit.servrs",
        # the misspelling also leaves 'servers' missing: the unknown key is reported first
        "unknown key 'servrs'; did you mean 'servers'? (+1 more)",
    ),
    (
        "unknown_key_in_population",
        "    deadline: 2025-01-15",
        "    dedline: 2025-01-15",
        "dedline:",
        "populations.acc.dedline",
        "unknown key 'dedline'; did you mean 'deadline'?",
    ),
    (
        "unknown_key_in_distribution",
        "dwell_hours: {dist: fixed, value: 12.0}",
        "dwell_hours: {dist: fixed, valeu: 12.0}",
        "dwell_hours:",
        "crackdown.holding.dwell_hours.valeu",
        "unknown key 'valeu'; did you mean 'value'? (+1 more)",
    ),
    (
        "unknown_key_in_timeline_event",
        "crossing: gate, stage: exit, servers: 3}",
        "crossing: gate, stge: exit, servers: 3}",
        "stge:",
        "timeline.0.stge",
        "unknown key 'stge'; did you mean 'stage'? (+1 more)",
    ),
    (
        "unknown_key_without_close_match_lists_allowed",
        "  end: 2025-01-31\n",
        "  end: 2025-01-31\n  colour: blue\n",
        "colour:",
        "calendar.colour",
        "unknown key 'colour'; expected one of: start, end",
    ),
    # distributions and timeline events
    (
        "unknown_distribution",
        "            dist: gamma\n",
        "            dist: gama\n",
        "dist: gama",
        "crossings.gate.stages.entry.service_minutes.per_household.dist",
        f"unknown distribution 'gama'; did you mean 'gamma'? expected one of: {DISTS}",
    ),
    (
        "unknown_distribution_without_close_match",
        "{dist: lognormal, mean: 8.0, sd: 2.0}",
        "{dist: weibull, mean: 8.0, sd: 2.0}",
        "weibull",
        "populations.acc.regions.south.crossings.spare.travel_hours.dist",
        f"unknown distribution 'weibull'; expected one of: {DISTS}",
    ),
    (
        "distribution_without_dist",
        "dwell_hours: {dist: fixed, value: 12.0}",
        "dwell_hours: {value: 12.0}",
        "dwell_hours:",
        "crackdown.holding.dwell_hours.dist",
        f"required key is missing; it names the distribution, expected one of: {DISTS}",
    ),
    (
        "unknown_timeline_event",
        "{event: hazard_change,",
        "{event: hazard_chnage,",
        "hazard_chnage",
        "timeline.3.event",
        f"unknown timeline event 'hazard_chnage'; did you mean 'hazard_change'? "
        f"expected one of: {EVENTS}",
    ),
    # missing keys
    (
        "missing_required_key",
        "  end: 2025-01-31\n",
        "",
        "calendar:",
        "calendar.end",
        "required key is missing; expected a date YYYY-MM-DD",
    ),
    (
        "missing_required_mapping",
        "        service_minutes: {per_household: {dist: exponential, mean: 10.0}}\n",
        "",
        "      desk:",
        "crossings.spare.stages.desk.service_minutes",
        "required key is missing; expected a mapping",
    ),
    (
        "missing_distribution",
        "    dwell_hours: {dist: fixed, value: 12.0}\n",
        "",
        "  holding:",
        "crackdown.holding.dwell_hours",
        f"required key is missing; expected a mapping with dist: one of {DISTS}",
    ),
    # field constraints
    (
        "negative_persons",
        "persons: 500",
        "persons: -500",
        "persons: -500",
        "populations.por.persons",
        "must be >= 0 (got -500)",
    ),
    (
        "negative_rate",
        "rate_per_day: 20",
        "rate_per_day: -20",
        "rate_per_day: -20",
        "demand.0.schedule.1.rate_per_day",
        "must be >= 0 (got -20)",
    ),
    (
        "negative_servers",
        "{from: 2025-01-05, servers: 3}",
        "{from: 2025-01-05, servers: -3}",
        "servers: -3}",
        "crossings.gate.stages.exit.servers_schedule.0.servers",
        "must be >= 0 (got -3)",
    ),
    (
        "share_above_one",
        "share: 0.6",
        "share: 1.6",
        "share: 1.6",
        "populations.acc.regions.north.share",
        "must be <= 1 (got 1.6)",
    ),
    (
        "negative_probability",
        "never_share: 0.5",
        "never_share: -0.5",
        "never_share",
        "populations.acc.voluntary.never_share",
        "must be >= 0 (got -0.5)",
    ),
    (
        "non_positive_distribution_mean",
        "{dist: exponential, mean: 6.0}",
        "{dist: exponential, mean: 0}",
        "mean: 0}",
        "populations.acc.regions.south.crossings.gate.travel_hours.mean",
        "must be > 0 (got 0)",
    ),
    (
        "hour_out_of_range",
        "close_hour: 19}",
        "close_hour: 25}",
        "close_hour: 25",
        "crossings.gate.opening_hours.close_hour",
        "must be <= 24 (got 25)",
    ),
    (
        "not_a_number",
        "persons: 1000",
        "persons: lots",
        "persons: lots",
        "populations.acc.persons",
        "expected a valid integer, unable to parse string as an integer (got 'lots')",
    ),
    (
        "not_a_mapping",
        "opening_hours: {open_hour: 7, close_hour: 19}",
        "opening_hours: 7-19",
        "opening_hours",
        "crossings.gate.opening_hours",
        "expected a mapping of keys (got '7-19')",
    ),
    (
        "bad_date_text",
        "  start: 2025-01-01",
        "  start: first of January",
        "first of January",
        "calendar.start",
        "expected a date YYYY-MM-DD, invalid character in year (got 'first of January')",
    ),
    (
        "impossible_date",
        "deadline: 2025-01-15",
        "deadline: 2025-02-30",
        "    deadline:",
        "populations.acc.deadline",
        "expected a date YYYY-MM-DD, day value is outside expected range (got '2025-02-30')",
    ),
    (
        "unknown_unit",
        "unit: persons",
        "unit: people",
        "unit:",
        "demand.0.unit",
        "expected 'households' or 'persons' (got 'people')",
    ),
    (
        "unknown_priority_class",
        "priority: [deported]",
        "priority: [deportees]",
        "priority:",
        "crossings.gate.stages.exit.priority.0",
        "expected 'deported' or 'vulnerable' (got 'deportees')",
    ),
    (
        "priority_class_twice",
        "priority: [deported]",
        "priority: [deported, deported]",
        "priority:",
        "crossings.gate.stages.exit.priority",
        "priority lists a class twice (got ['deported', 'deported'])",
    ),
    (
        "bad_scenario_name",
        "name: mini",
        "name: my scenario",
        "name: my",
        "name",
        f"{FOLDER_NAME} (got 'my scenario')",
    ),
    # rules inside one section
    (
        "household_weights_do_not_match_values",
        "weights: [1, 2, 1]",
        "weights: [1, 2]",
        "weights: [1, 2]",
        "populations.por.household_size.weights",
        "has 2 entries but values has 3; expected one weight per value (got [1, 2])",
    ),
    (
        "household_mean_and_values",
        "      values: [1, 4, 7]\n",
        "      values: [1, 4, 7]\n      mean: 4.0\n",
        "household_size:\n      values: [1, 4, 7]",
        "populations.por.household_size",
        "expected either mean or values (with optional weights); both are given "
        "(got {values: [1, 4, 7], mean: 4.0, weights: [1, 2, 1]})",
    ),
    (
        "household_neither_mean_nor_values",
        "      mean: 5.0\n      max_persons: 12\n",
        "      max_persons: 12\n",
        "household_size:\n      max_persons: 12",
        "populations.acc.household_size",
        "expected either mean or values (with optional weights); neither is given "
        "(got {max_persons: 12})",
    ),
    (
        "empirical_weights_do_not_match_values",
        "values: [2.0, 3.0], weights: [1, 1]}",
        "values: [2.0, 3.0], weights: [1, 1, 1]}",
        "dist: empirical",
        "crackdown.transport.travel_hours.weights",
        "has 3 entries but values has 2; expected one weight per value (got [1, 1, 1])",
    ),
    (
        "close_hour_not_after_open_hour",
        "{open_hour: 7, close_hour: 19}",
        "{open_hour: 7, close_hour: 7}",
        "open_hour",
        "crossings.gate.opening_hours.close_hour",
        "must be after open_hour (7) (got 7)",
    ),
    (
        "voluntary_both_schedule_and_ramp",
        "      after_deadline_per_day: 0.002\n",
        "      after_deadline_per_day: 0.002\n"
        "      schedule: [{from: 2025-01-01, rate_per_day: 0}]\n",
        "voluntary:\n      never_share: 0.5",
        "populations.acc.voluntary",
        "expected exactly one of schedule (dated steps) or ramp (before the deadline); "
        "both are given "
        "(got {never_share: 0.5, ramp: {base_per_day: 0.001, peak_per_day: 0.01, ramp_days: 5}, "
        "after_deadline_...)",
    ),
    (
        "voluntary_neither_schedule_nor_ramp",
        "      schedule:\n        - {from: 2025-01-01, rate_per_day: 0.001}\n"
        "        - {from: 2025-01-20, rate_per_day: 0.003}\n",
        "      never_share: 0.2\n",
        "voluntary:\n      never_share: 0.2",
        "populations.por.voluntary",
        "expected exactly one of schedule (dated steps) or ramp (before the deadline); "
        "neither is given (got {never_share: 0.2})",
    ),
    (
        "service_time_without_any_part",
        "service_minutes: {per_household: {dist: exponential, mean: 10.0}}",
        "service_minutes: {}",
        "service_minutes: {}",
        "crossings.spare.stages.desk.service_minutes",
        "expected per_household and/or per_person; neither is given (got {})",
    ),
    (
        "crossing_without_stages",
        "    stages:\n      desk:\n        servers: 1\n"
        "        service_minutes: {per_household: {dist: exponential, mean: 10.0}}\n"
        "        initial_backlog: {households: 20, group: stranded,"
        " household_size: {values: [3]}}\n",
        "    stages: {}\n",
        "stages: {}",
        "crossings.spare.stages",
        "expected at least 1 entry (got {})",
    ),
    # numbers must be finite and within the documented bounds (simulation.scenario.schema)
    (
        "rate_is_infinite",
        "rate_per_day: 20",
        "rate_per_day: .inf",
        "rate_per_day: .inf",
        "demand.0.schedule.1.rate_per_day",
        f"{FINITE} (got inf)",
    ),
    (
        "share_is_nan",
        "share: 0.6",
        "share: .nan",
        "share: .nan",
        "populations.acc.regions.north.share",
        f"{FINITE} (got nan)",
    ),
    (
        "number_text_overflowing_to_infinity",
        "dwell_hours: {dist: fixed, value: 12.0}",
        "dwell_hours: {dist: fixed, value: 1e400}",
        "dwell_hours:",
        "crackdown.holding.dwell_hours.value",
        f"{FINITE} (got '1e400')",
    ),
    (
        "gamma_sd_infinite",
        "{dist: gamma, mean: 5.0, sd: 1.0}",
        "{dist: gamma, mean: 5.0, sd: .inf}",
        "sd: .inf",
        "populations.por.regions.north.crossings.gate.travel_hours.sd",
        f"{FINITE} (got inf)",
    ),
    (
        "travel_time_sd_infinite",
        "{dist: lognormal, mean: 8.0, sd: 2.0}",
        "{dist: lognormal, mean: 8.0, sd: .inf}",
        "sd: .inf",
        "populations.acc.regions.south.crossings.spare.travel_hours.sd",
        f"{FINITE} (got inf)",
    ),
    (
        "mean_absurdly_large",
        "{per_household: {dist: exponential, mean: 10.0}}",
        "{per_household: {dist: exponential, mean: 1.0e+308}}",
        "mean: 1.0e+308",
        "crossings.spare.stages.desk.service_minutes.per_household.mean",
        "must be <= 1e6 (got 1e+308)",
    ),
    (
        "sd_too_large_for_the_mean",
        "{dist: gamma, mean: 5.0, sd: 1.0}",
        "{dist: gamma, mean: 5.0, sd: 6000.0}",
        "sd: 6000.0",
        "populations.por.regions.north.crossings.gate.travel_hours.sd",
        "must be between 1e-06 and 1000 times the mean (here 5e-06 to 5000); the sampler "
        "cannot draw it (got 6000.0)",
    ),
    (
        "sd_too_small_for_the_mean",
        "            mean: 5.0\n            sd: 2.0\n",
        "            mean: 5.0\n            sd: 1.0e-300\n",
        "sd: 1.0e-300",
        "crossings.gate.stages.entry.service_minutes.per_household.sd",
        "must be between 1e-06 and 1000 times the mean (here 5e-06 to 5000); the sampler "
        "cannot draw it (got 1e-300)",
    ),
    (
        "servers_absurd",
        "        servers: 1\n",
        "        servers: 1000000000000000000000000000000\n",
        "servers: 1000000000000000000000000000000",
        "crossings.spare.stages.desk.servers",
        "must be <= 100000 (got 1000000000000000000000000000000)",
    ),
    (
        "persons_above_bound",
        "persons: 1000",
        "persons: 2000000000",
        "persons: 2000000000",
        "populations.acc.persons",
        "must be <= 1e9 (got 2000000000)",
    ),
    (
        "rate_above_bound",
        "rate_per_day: 20",
        "rate_per_day: 20000000.0",
        "rate_per_day: 20000000.0",
        "demand.0.schedule.1.rate_per_day",
        "must be <= 1e7 (got 20000000.0)",
    ),
    (
        "household_size_values_empty",
        "household_size: {values: [3]}",
        "household_size: {values: []}",
        "initial_backlog:",
        "crossings.spare.stages.desk.initial_backlog.household_size.values",
        "expected at least 1 entry (got [])",
    ),
    (
        "household_larger_than_bound",
        "max_persons: 12",
        "max_persons: 5000",
        "max_persons: 5000",
        "populations.acc.household_size.max_persons",
        "must be <= 1000 (got 5000)",
    ),
    (
        "weight_infinite",
        "weights: [1, 2, 1]",
        "weights: [1, .inf, 1]",
        "weights: [1, .inf, 1]",
        "populations.por.household_size.weights.1",
        f"{FINITE} (got inf)",
    ),
    (
        "patience_infinite",
        "patience_hours: 24",
        "patience_hours: .inf",
        "patience_hours: .inf",
        "crossings.gate.divert.patience_hours",
        f"{FINITE} (got inf)",
    ),
    (
        "ramp_longer_than_bound",
        "ramp_days: 5}",
        "ramp_days: 100000}",
        "ramp_days: 100000}",
        "populations.acc.voluntary.ramp.ramp_days",
        "must be <= 36525 (got 100000)",
    ),
    (
        "multiplier_above_bound",
        "multiplier: 2.0",
        "multiplier: 2000000.0",
        "multiplier: 2000000.0",
        "timeline.3.multiplier",
        "must be <= 1e6 (got 2000000.0)",
    ),
    (
        "replications_above_bound",
        "name: mini\n",
        "name: mini\nrun: {replications: 1000000}\n",
        "run:",
        "run.replications",
        "must be <= 100000 (got 1000000)",
    ),
    (
        "seed_above_bound",
        "name: mini\n",
        "name: mini\nrun: {seed: 9223372036854775808}\n",
        "run:",
        "run.seed",
        "must be <= 9223372036854775807 (got 9223372036854775808)",
    ),
    (
        "calendar_longer_than_bound",
        "  end: 2025-01-31",
        "  end: 2225-01-31",
        "end: 2225-01-31",
        "calendar.end",
        "the calendar spans 73079 days; at most 36525 (100 years) (got '2225-01-31')",
    ),
    # a scenario name becomes a folder name (results/NAME)
    ("name_dot", "name: mini", "name: .", "name:", "name", f"{FOLDER_NAME} (got '.')"),
    ("name_dot_dot", "name: mini", "name: ..", "name:", "name", f"{FOLDER_NAME} (got '..')"),
    ("name_with_slash", "name: mini", "name: a/b", "name:", "name", f"{FOLDER_NAME} (got 'a/b')"),
    (
        "name_too_long",
        "name: mini",
        "name: " + "a" * 81,
        "name:",
        "name",
        f"{FOLDER_NAME} (got '{'a' * 81}')",
    ),
    # cross-field rules (simulation.scenario.rules)
    (
        "calendar_end_before_start",
        "  end: 2025-01-31",
        "  end: 2024-12-31",
        "end: 2024-12-31",
        "calendar.end",
        "must not be before calendar.start (2025-01-01) (got '2024-12-31')",
    ),
    (
        "region_shares_do_not_sum_to_one",
        "share: 0.4",
        "share: 0.3",
        "regions:\n      north:\n        share: 0.6",
        "populations.acc.regions",
        "shares must sum to 1 (got 0.9)",
    ),
    (
        "route_shares_do_not_sum_to_one",
        "gate: {share: 0.5,",
        "gate: {share: 0.25,",
        "crossings:\n          gate: {share: 0.25",
        "populations.acc.regions.south.crossings",
        "shares must sum to 1 (got 0.75)",
    ),
    (
        "route_to_unknown_crossing",
        "spare: {share: 0.5,",
        "spar: {share: 0.5,",
        "spar:",
        "populations.acc.regions.south.crossings.spar",
        "unknown crossing; did you mean 'spare'? expected one of: gate, spare (got 'spar')",
    ),
    (
        "empty_section_is_not_a_mapping",
        "      north:\n        share: 1.0\n        crossings:\n"
        "          gate: {share: 1.0, travel_hours: {dist: gamma, mean: 5.0, sd: 1.0}}\n",
        "",
        "regions:\n    voluntary:",
        "populations.por.regions",
        "expected a mapping of keys (got None)",
    ),
    (
        "group_with_persons_without_regions",
        "    regions:\n      north:\n        share: 1.0\n        crossings:\n"
        "          gate: {share: 1.0, travel_hours: {dist: gamma, mean: 5.0, sd: 1.0}}\n",
        "    regions: {}\n",
        "regions: {}",
        "populations.por.regions",
        "a group with persons needs at least one region (got {}) (+1 more)",
    ),
    (
        "deadline_outside_calendar",
        "deadline: 2025-01-15",
        "deadline: 2025-03-31",
        "deadline: 2025-03-31",
        "populations.acc.deadline",
        "must lie within the calendar 2025-01-01..2025-01-31 (got '2025-03-31')",
    ),
    (
        "voluntary_schedule_out_of_order",
        "{from: 2025-01-20, rate_per_day: 0.003}",
        "{from: 2024-12-20, rate_per_day: 0.003}",
        "2024-12-20",
        "populations.por.voluntary.schedule.1.from",
        "dates must be in increasing order; expected after 2025-01-01 (got '2024-12-20')",
    ),
    (
        "ramp_without_deadline",
        "    deadline: 2025-01-15\n",
        "",
        "ramp:",
        "populations.acc.voluntary.ramp",
        "a ramp rises to the deadline; expected populations.acc.deadline or a schedule "
        "(got {base_per_day: 0.001, peak_per_day: 0.01, ramp_days: 5}) (+2 more)",
    ),
    (
        "after_deadline_rate_without_deadline",
        "        - {from: 2025-01-20, rate_per_day: 0.003}\n",
        "        - {from: 2025-01-20, rate_per_day: 0.003}\n      after_deadline_per_day: 0.1\n",
        "after_deadline_per_day: 0.1",
        "populations.por.voluntary.after_deadline_per_day",
        "applies after the deadline; expected populations.por.deadline (got 0.1)",
    ),
    (
        "household_larger_than_deportation_vehicle",
        "vehicle_capacity_persons: 40",
        "vehicle_capacity_persons: 10",
        "max_persons: 12",
        "populations.acc.household_size.max_persons",
        "largest household must fit a deportation vehicle (10 persons) (got 12)",
    ),
    (
        "stage_with_demand_without_servers",
        "        servers: 2\n        servers_schedule:",
        "        servers: 0\n        servers_schedule:",
        "servers: 0",
        "crossings.gate.stages.exit.servers",
        "a stage with demand needs servers >= 1 (got 0)",
    ),
    (
        "servers_schedule_out_of_order",
        "{from: 2025-01-20, servers: 4}",
        "{from: 2025-01-02, servers: 4}",
        "2025-01-02",
        "crossings.gate.stages.exit.servers_schedule.1.from",
        "dates must be in increasing order; expected after 2025-01-05 (got '2025-01-02')",
    ),
    (
        "servers_schedule_outside_calendar",
        "{from: 2025-01-20, servers: 4}",
        "{from: 2025-02-20, servers: 4}",
        "2025-02-20",
        "crossings.gate.stages.exit.servers_schedule.1.from",
        "must lie within the calendar 2025-01-01..2025-01-31 (got '2025-02-20')",
    ),
    # a waiting limit on a first stage is allowed (the rest wait on the road): the one rule
    # it brings, no stage named 'approach' beside it, is pinned in test_approach_road.py
    (
        "backlog_of_a_population_group_with_its_own_sizes",
        "group: stranded,",
        "group: acc,",
        "initial_backlog:",
        "crossings.spare.stages.desk.initial_backlog.household_size",
        "must be left out: the backlog of population group 'acc' uses the group's household "
        "sizes (got {values: [3]})",
    ),
    (
        "backlog_outside_populations_without_sizes",
        ", household_size: {values: [3]}}",
        "}",
        "initial_backlog:",
        "crossings.spare.stages.desk.initial_backlog.household_size",
        "a backlog outside the populations needs household_size (got None)",
    ),
    (
        "closure_ends_before_it_starts",
        "end: 2025-01-12, reason",
        "end: 2025-01-08, reason",
        "reason: clashes",
        "crossings.gate.closures.0.end",
        "must not be before start (2025-01-10) (got '2025-01-08')",
    ),
    (
        "closure_outside_calendar",
        "{start: 2025-01-10, end: 2025-01-12,",
        "{start: 2024-01-10, end: 2025-01-12,",
        "reason: clashes",
        "crossings.gate.closures.0.start",
        "must lie within the calendar 2025-01-01..2025-01-31 (got '2024-01-10')",
    ),
    (
        "divert_to_unknown_crossing",
        "to: spare",
        "to: spair",
        "to: spair",
        "crossings.gate.divert.to",
        "unknown crossing; did you mean 'spare'? expected one of: spare (got 'spair')",
    ),
    (
        "divert_to_itself",
        "to: spare",
        "to: gate",
        "to: gate",
        "crossings.gate.divert.to",
        "must be another crossing; expected one of: spare (got 'gate')",
    ),
    (
        "demand_on_unknown_crossing",
        "  - crossing: gate",
        "  - crossing: gates",
        "crossing: gates",
        "demand.0.crossing",
        "unknown crossing; did you mean 'gate'? expected one of: gate, spare (got 'gates')",
    ),
    (
        "demand_labelled_as_a_population_group",
        "group: direct",
        "group: acc",
        "group: acc\n",
        "demand.0.group",
        "direct demand needs its own label, not a population group (got 'acc')",
    ),
    (
        "demand_schedule_out_of_order",
        "      - from: 2025-01-15",
        "      - from: 2025-01-01",
        "from: 2025-01-01\n        rate_per_day: 20",
        "demand.0.schedule.1.from",
        "dates must be in increasing order; expected after 2025-01-01 (got '2025-01-01')",
    ),
    (
        "timeline_date_before_calendar",
        "{event: hazard_change, date: 2025-01-05,",
        "{event: hazard_change, date: 2024-12-05,",
        "hazard_change",
        "timeline.3.date",
        "must not be before the calendar start 2025-01-01 (got '2024-12-05')",
    ),
    (
        "timeline_event_on_unknown_group",
        "group: por, multiplier",
        "group: pro, multiplier",
        "hazard_change",
        "timeline.3.group",
        "unknown group; did you mean 'por'? expected one of: acc, por (got 'pro')",
    ),
    (
        "timeline_event_on_unknown_crossing",
        "crossing: spare, end",
        "crossing: torkham, end",
        "torkham",
        "timeline.2.crossing",
        "unknown crossing; expected one of: gate, spare (got 'torkham')",
    ),
    (
        "timeline_event_on_unknown_stage",
        "stage: exit, servers: 3}",
        "stage: exits, servers: 3}",
        "capacity_change",
        "timeline.0.stage",
        "unknown stage; did you mean 'exit'? expected one of: exit, entry (got 'exits')",
    ),
    (
        "deadline_extension_before_calendar",
        "new_deadline: 2025-01-20",
        "new_deadline: 2024-12-20",
        "new_deadline",
        "timeline.1.new_deadline",
        "must not be before the calendar start 2025-01-01 (got '2024-12-20')",
    ),
    (
        "deadline_extension_of_a_group_without_deadline",
        "group: acc, new_deadline",
        "group: por, new_deadline",
        "new_deadline",
        "timeline.1.group",
        "the group has no deadline to extend (got 'por')",
    ),
    (
        "closure_event_ends_before_it_starts",
        "end: 2025-01-26}",
        "end: 2025-01-20}",
        "{event: closure",
        "timeline.2.end",
        "must not be before date (2025-01-25) (got '2025-01-20')",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "marker", "key", "message"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_rule_message(tmp_path, old, new, marker, key, message):
    text = mutate(old, new)
    path = write(tmp_path, text)
    pinned(path, f"{path}:{line_of(text, marker)}: {key}: {message}")


def test_deadline_without_crackdown(tmp_path):
    text = drop_section("crackdown")
    assert "crackdown" not in text
    path = write(tmp_path, text)
    pinned(
        path,
        f"{path}:{line_of(text, 'deadline: 2025-01-15')}: populations.acc.deadline: "
        "a deadline needs a crackdown section (apprehension, holding, transport) "
        "(got '2025-01-15')",
    )


def test_unknown_name_among_many_lists_some_without_a_hint(tmp_path):
    """Beyond 50 names there is no "did you mean" (quadratic when many references are wrong)."""
    spare = "  spare:\n    stages:\n"
    extra = "".join(
        f"  x{i}: {{stages: {{s: {{servers: 1, service_minutes: {{per_household: "
        f"{{dist: fixed, value: 1}}}}}}}}}}\n"
        for i in range(60)
    )
    text = mutate("  - crossing: gate", "  - crossing: x1a", mutate(spare, extra + spare))
    path = write(tmp_path, text)
    listed = ", ".join(["gate", *(f"x{i}" for i in range(49))])
    pinned(
        path,
        f"{path}:{line_of(text, 'crossing: x1a')}: demand.0.crossing: unknown crossing; "
        f"expected one of: {listed}, ... (62 in all) (got 'x1a')",
    )


def test_missing_section_points_at_the_top(tmp_path):
    path = write(tmp_path, drop_section("crossings"))
    pinned(path, f"{path}:1: crossings: required key is missing; expected a mapping")


def test_errors_are_reported_in_file_order(tmp_path):
    text = mutate("persons: 500", "persons: -1", mutate("persons: 1000", "persons: -2"))
    path = write(tmp_path, text)
    line = line_of(text, "persons: -2")
    pinned(path, f"{path}:{line}: populations.acc.persons: must be >= 0 (got -2) (+1 more)")


# ---------------------------------------------------------------- the file itself
def test_file_not_found(tmp_path):
    path = tmp_path / "nowhere.yaml"
    pinned(path, f"{path}: cannot read the file (No such file or directory)")


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: café\n".encode("latin-1"))
    pinned(path, f"{path}: not a UTF-8 text file (invalid continuation byte)")


def test_invalid_yaml_syntax(tmp_path):
    text = mutate("priority: [deported]", "priority: [deported")
    path = write(tmp_path, text)
    pinned(
        path,
        f"{path}:{line_of(text, '      entry:')}: not valid YAML (column 12): expected ',' or "
        f"']', but got ':' (while parsing a flow sequence, line {line_of(text, 'priority:')})",
    )


def test_unclosed_quote(tmp_path):
    path = write(tmp_path, mutate("reason: clashes}", 'reason: "clashes}'))
    pinned(
        path,
        f"{path}:{BASE.count(chr(10)) + 1}: not valid YAML (column 1): found unexpected end of "
        f"stream (while scanning a quoted scalar, line {line_of(BASE, 'reason: clashes')})",
    )


def test_two_documents(tmp_path):
    path = write(tmp_path, BASE + "---\nname: other\n")
    line = BASE.count("\n") + 1
    pinned(
        path,
        f"{path}:{line}: not valid YAML (column 1): but found another document "
        "(expected a single document in the stream, line 1)",
    )


def test_tab_indentation(tmp_path):
    text = mutate("  end: 2025-01-31", "\tend: 2025-01-31")
    path = write(tmp_path, text)
    pinned(
        path,
        f"{path}:4: not valid YAML (column 1): found character '\\t' that cannot start any "
        "token; indent with spaces, not tabs",
    )


def test_duplicate_key(tmp_path):
    text = mutate("        servers: 1\n", "        servers: 1\n        servers: 5\n")
    path = write(tmp_path, text)
    pinned(
        path,
        f"{path}:{line_of(text, 'servers: 5')}: crossings.spare.stages.desk.servers: duplicate "
        f"key (first given on line {line_of(text, 'servers: 1')}); give it once",
    )


@pytest.mark.parametrize(
    ("text", "got"), [("", "None"), ("- name: mini\n", "[{name: 'mini'}]"), ("mini\n", "'mini'")]
)
def test_file_must_hold_a_mapping(tmp_path, text, got):
    path = write(tmp_path, text)
    pinned(path, f"{path}:1: (top level): expected a mapping of sections (got {got})")


# ---------------------------------------------------------------- --set overrides
def test_set_unknown_section_key(tmp_path):
    path = write(tmp_path, BASE)
    assignment = "crossings.gaet.stages.exit.servers=3"
    pinned(
        path,
        f"{path}: --set {assignment}: crossings.gaet: no such key in the file; "
        "did you mean 'gate'?",
        (assignment,),
    )


def test_set_unknown_leaf_key(tmp_path):
    path = write(tmp_path, BASE)
    assignment = "crossings.gate.stages.exit.servrs=3"
    pinned(
        path,
        f"{path}: --set {assignment}: crossings.gate.stages.exit.servrs: unknown key "
        "'servrs'; did you mean 'servers'?",
        (assignment,),
    )


def test_set_bad_value(tmp_path):
    path = write(tmp_path, BASE)
    assignment = "crossings.gate.stages.exit.servers=-3"
    pinned(
        path,
        f"{path}: --set {assignment}: crossings.gate.stages.exit.servers: must be >= 0 (got -3)",
        (assignment,),
    )


def test_set_breaking_a_cross_field_rule(tmp_path):
    path = write(tmp_path, BASE)
    assignment = "populations.acc.deadline=2025-06-01"
    pinned(
        path,
        f"{path}: --set {assignment}: populations.acc.deadline: must lie within the calendar "
        "2025-01-01..2025-01-31 (got '2025-06-01')",
        (assignment,),
    )


def test_set_impossible_date(tmp_path):
    path = write(tmp_path, BASE)
    assignment = "calendar.end=2025-02-30"
    pinned(
        path,
        f"{path}: --set {assignment}: calendar.end: expected a date YYYY-MM-DD, day value is "
        "outside expected range (got '2025-02-30')",
        (assignment,),
    )


def test_set_index_out_of_range(tmp_path):
    path = write(tmp_path, BASE)
    assignment = "demand.3.crossing=spare"
    pinned(
        path,
        f"{path}: --set {assignment}: demand.3: no such item; expected an index 0..0",
        (assignment,),
    )


def test_set_inside_a_plain_value(tmp_path):
    path = write(tmp_path, BASE)
    assignment = "name.first=x"
    pinned(
        path,
        f"{path}: --set {assignment}: name.first: cannot go inside the value 'mini'",
        (assignment,),
    )


def test_set_without_equals(tmp_path):
    path = write(tmp_path, BASE)
    pinned(
        path,
        f"{path}: --set run.seed: expected KEY.PATH=VALUE, e.g. run.seed=7",
        ("run.seed",),
    )


def test_set_inside_a_section_the_file_lacks(tmp_path):
    path = write(tmp_path, BASE)
    assignment = "run.seed=7"
    pinned(
        path,
        f"{path}: --set {assignment}: run: not in the file, so --set cannot reach inside it; "
        "set it whole instead, e.g. --set 'run={seed: 7}'",
        (assignment,),
    )


def test_set_empty_household_sizes(tmp_path):
    path = write(tmp_path, BASE)
    assignment = "demand.0.household_size={values: []}"
    pinned(
        path,
        f"{path}: --set {assignment}: demand.0.household_size.values: expected at least 1 entry "
        "(got [])",
        (assignment,),
    )


def test_set_infinite_value(tmp_path):
    path = write(tmp_path, BASE)
    assignment = "demand.0.schedule.0.rate_per_day=.inf"
    pinned(
        path,
        f"{path}: --set {assignment}: demand.0.schedule.0.rate_per_day: {FINITE} (got inf)",
        (assignment,),
    )


def test_the_longest_name_is_accepted(tmp_path):
    scenario = load_scenario(write(tmp_path, mutate("name: mini", "name: a" + "-" * 79)))
    assert scenario.name == "a" + "-" * 79


def test_set_that_fixes_the_file_is_accepted(tmp_path):
    text = mutate("servers: 2\n        servers_schedule", "servers: 0\n        servers_schedule")
    overrides = ["crossings.gate.stages.exit.servers=5", "run={seed: 7}"]
    scenario = load_scenario(write(tmp_path, text), overrides)
    assert scenario.crossings["gate"].stages["exit"].servers == 5 and scenario.run.seed == 7


# ---------------------------------------------------------------- the command line
def _one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "", "nothing is written to stdout for bad input"
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err and err.startswith("error: ")
    return err.strip()


@pytest.mark.parametrize("command", ["validate", "run"])
def test_cli_bad_file_is_one_line_exit_2(tmp_path, capsys, command):
    text = mutate("dist: gamma\n", "dist: gama\n")
    path = write(tmp_path, text)
    err = _one_line_exit_2([command, str(path)], capsys)
    assert err.startswith(f"error: {path}:{line_of(text, 'dist: gama')}: ")
    assert "did you mean 'gamma'?" in err


@pytest.mark.parametrize("command", ["validate", "run"])
def test_cli_bad_set_is_one_line_exit_2(tmp_path, capsys, command):
    path = write(tmp_path, BASE)
    err = _one_line_exit_2([command, str(path), "--set", "calendar.ned=2025-02-01"], capsys)
    assert err == (
        f"error: {path}: --set calendar.ned=2025-02-01: calendar.ned: unknown key 'ned'; "
        "did you mean 'end'?"
    )


@pytest.mark.parametrize("command", ["validate", "run"])
def test_cli_invalid_yaml_is_one_line_exit_2(tmp_path, capsys, command):
    path = write(tmp_path, "name: [mini\n")
    err = _one_line_exit_2([command, str(path)], capsys)
    assert err.startswith(f"error: {path}:2: not valid YAML")


def test_cli_validate_checks_every_file(tmp_path, capsys):
    good = write(tmp_path, BASE, "good.yaml")
    bad = write(tmp_path, mutate("persons: 1000", "persons: -1"), "bad.yaml")
    assert main(["validate", str(good), str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == f"ok: {good} (mini, 31 days)\n"
    assert err.count("\n") == 1 and err.startswith(f"error: {bad}:7: populations.acc.persons")
