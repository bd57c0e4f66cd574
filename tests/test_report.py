"""repatsim report: one self-contained HTML file per results folder, each section on tiny folders
of every kind (run, compare, size, sweep), escaping, and safe, atomic writing."""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from simulation import load_scenario, run_replications, simulate
from simulation.cli.args import Parser
from simulation.cli.report import add_report_parser, report_command
from simulation.experiments.compare import arms_from_overrides, compare_arms
from simulation.experiments.sizing import size
from simulation.folders import MANIFEST, check_destination, write_folder
from simulation.report import REPORT, SECTIONS, build_report, open_folder, write_report
from simulation.report.experiments import differences_section, sizing_section
from simulation.report.figures import run_figures_section
from simulation.report.headline import headline_section
from simulation.report.provenance import provenance_section
from simulation.report.scenario import policy_timeline, scenario_section
from simulation.report.sweep import sweep_section
from simulation.results import write_results
from simulation.scenario import scenario_hash, scenario_to_yaml
from tests.conftest import ROOT

TORKHAM = ROOT / "scenarios" / "torkham_2025_acc.yaml"
MMC = ROOT / "scenarios" / "textbook_mmc.yaml"
SMALL = ["populations.acc.persons=3000", "populations.undocumented.persons=2000",
         "calendar.end=2025-04-08"]  # fmt: skip
HOSTILE = [
    "description=<script>window.pwned=1</script> & <b>bold</b>",
    "sources+=<img src=http://evil.example/x.png onerror=alert(1)>",
    "crossings.torkham.closures.0.reason=<i>clashes</i>",
]
EXTENSION = (
    "timeline+={event: deadline_extension, date: 2025-03-20, group: acc, new_deadline: 2025-04-30}"
)


def fmt(value: float) -> str:
    """How the report prints a number (the rule in its docstring, written out again)."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


# ---------------------------------------------------------------- tiny folders of every kind
def make_run_folder(out: Path, replications: int = 3) -> Path:
    """A run's results folder (shrunk Torkham, hostile text) as ``repatsim run`` writes it."""
    overrides = [*SMALL, *HOSTILE]
    scenario = load_scenario(TORKHAM, overrides)
    results = run_replications(scenario, replications, 5)
    results.manifest |= {"scenario_file": str(TORKHAM), "overrides": overrides,
                         "scenario_sha256": scenario_hash(TORKHAM)}  # fmt: skip
    write_results(results, out, scenario_to_yaml(scenario))
    return out


def _write_tables(out: Path, tables: dict[str, pd.DataFrame], manifest: dict) -> Path:
    """Tables as csv plus manifest, as the experiment commands write them."""

    def write(tmp: Path) -> list[str]:
        for name, frame in tables.items():
            suffix = "parquet" if name == "experiments" else "csv"
            if suffix == "csv":
                frame.to_csv(tmp / f"{name}.csv", index=False)
            else:
                frame.to_parquet(tmp / f"{name}.parquet", index=False)
        return [f"{n}.{'parquet' if n == 'experiments' else 'csv'}" for n in tables]

    write_folder(out, write, manifest)
    return out


def make_compare_folder(out: Path) -> Path:
    arms = arms_from_overrides(TORKHAM, {"extend": [EXTENSION]}, SMALL)
    result = compare_arms(arms, 3, 4)
    result.manifest["variants"] = {"extend": [EXTENSION]}
    tables = {"differences": result.differences, "outcomes": result.outcomes}
    return _write_tables(out, tables, result.manifest)


def make_size_folder(out: Path) -> Path:
    scenario = load_scenario(MMC, ["calendar.end=2025-01-02"])
    result = size(scenario, "gate", "desk", "mean_wait_hours<=0.3", 0.5, replications=2, seed=3)
    return _write_tables(out, {"sizing": result.evidence}, result.manifest)


SERVERS = "crossings.gate.stages.desk.servers"
OUTCOME = "worst_day_p95_wait_hours[gate/desk]"


def make_sweep_folder(out: Path) -> Path:
    """A sweep folder as ``repatsim sweep`` lays it out (its runs' rows made up here)."""
    rows = [
        {"run": f"p{p:04d}-r{r:03d}", "point": p, SERVERS: servers, "replication": r,
         "seed": 10 + r, "persons_returned[all/all]": 1000.0 + 10 * servers + r,
         OUTCOME: 40.0 / servers + r}
        for p, servers in enumerate([4, 6, 8]) for r in range(2)
    ]  # fmt: skip
    manifest = {"package": "repatsim", "kind": "sweep", "levers": {SERVERS: [4, 6, 8]},
                "uncertainties": {}, "replications": 2, "master_seed": 1, "runs": 6}  # fmt: skip
    return _write_tables(out, {"experiments": pd.DataFrame(rows)}, manifest)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("folders")
    return {
        "run": make_run_folder(root / "run"),
        "compare": make_compare_folder(root / "compare"),
        "size": make_size_folder(root / "size"),
        "sweep": make_sweep_folder(root / "sweep"),
    }


@pytest.fixture(scope="module")
def run_html(folders: dict[str, Path]) -> str:
    return build_report(open_folder(folders["run"]))


def summary_row(folder: Path, outcome: str, **keys: str) -> pd.Series:
    summary = pd.read_csv(folder / "summary.csv", keep_default_na=False, na_values=[""])
    rows = summary[summary["outcome"] == outcome]
    for key, value in keys.items():
        rows = rows[rows[key] == value]
    return rows.loc[rows["mean"].astype(float).idxmax()]


# ---------------------------------------------------------------- sections by folder kind
EXPECTED = {
    "run": {headline_section, run_figures_section, scenario_section, provenance_section},
    "compare": {differences_section, provenance_section},
    "size": {sizing_section, provenance_section},
    "sweep": {sweep_section, provenance_section},
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_kind_has_its_sections_and_lacks_the_others(folders, kind):
    folder = open_folder(folders[kind])
    made = {section for section in SECTIONS if section(folder) is not None}
    assert made == EXPECTED[kind]


# ---------------------------------------------------------------- a run's headline
def test_the_headline_shows_returns_with_their_interval(folders, run_html):
    row = summary_row(folders["run"], "persons_returned", group="all", mode="all")
    assert f"{fmt(row['mean'])} persons" in run_html
    assert f"95% CI {fmt(row['ci_low'])} to {fmt(row['ci_high'])}" in run_html
    undocumented = summary_row(folders["run"], "persons_returned", group="undocumented",
                               mode="voluntary")  # fmt: skip
    assert f"{fmt(undocumented['mean'])} (95% CI {fmt(undocumented['ci_low'])}" in run_html


TILES = {
    "peak_daily_crossings": ("Peak day at a crossing", "persons/day"),
    "worst_day_p95_wait_hours": ("Worst day&#x27;s 95th-percentile wait", "hours"),
    "persons_stranded_by_closures": ("Stranded by closures", "persons"),
    "persons_queued_overnight": ("Queued overnight", "persons"),
}
TILE = re.compile(
    r'<div class="tile"><div class="label">([^<]*)</div><div class="value">([^<]*)</div>'
    r'<div class="ci">([^<]*)</div><div class="ci">([^<]*)</div></div>'
)


@pytest.mark.parametrize("outcome", list(TILES))
def test_the_headline_shows_the_largest_of_each_hardship(folders, run_html, outcome):
    row = summary_row(folders["run"], outcome)
    assert row["mean"] > 0, "the tiny scenario must exercise this outcome"
    place = " / ".join(str(row[k]) for k in ("crossing", "stage") if isinstance(row[k], str))
    tiles = {label: rest for label, *rest in TILE.findall(run_html)}
    label, unit = TILES[outcome]
    ci = f"95% CI {fmt(row['ci_low'])} to {fmt(row['ci_high'])}"
    assert tiles[label] == [f"{fmt(row['mean'])} {unit}", ci, place]
    assert f"{fmt(row['mean'])} ({ci})" in run_html  # and in its table


def test_stages_where_nothing_happens_are_counted_not_listed(folders, run_html):
    summary = pd.read_csv(folders["run"] / "summary.csv", keep_default_na=False, na_values=[""])
    waits = summary[summary["outcome"].isin(["worst_day_p95_wait_hours", "p95_wait_hours",
                                             "mean_wait_hours", "peak_queue_persons"])]  # fmt: skip
    places = waits["crossing"] + " / " + waits["stage"]
    idle = waits["ci_high"].fillna(0).eq(0) & waits["mean"].eq(0)
    quiet = set(places) - set(places[~idle])
    assert quiet and quiet != set(places), "the tiny run must have busy and idle stages"
    shown = run_html.split("<h3>Waits and queues by stage</h3>")[1].split("<h3>")[0]
    listed = set(re.findall(r"<tr><td>([^<]*)</td>", shown))
    assert listed == set(places) - quiet
    assert f"{len(quiet)} more where every one of these is 0." in shown


def test_one_replication_says_it_has_no_interval(tmp_path):
    scenario = load_scenario(TORKHAM, SMALL)
    results = simulate(scenario, 7)
    write_results(results, tmp_path / "one", scenario_to_yaml(scenario), fmt="parquet")
    page = build_report(open_folder(tmp_path / "one"))
    total = results.summary.query("outcome == 'persons_returned' and group == 'all' "
                                  "and mode == 'all'")["mean"].iloc[0]  # fmt: skip
    assert f"{fmt(total)} (no interval (one replication))" in page
    assert "95% CI" not in page


# ---------------------------------------------------------------- escaping and offline
def test_scenario_text_is_escaped(run_html):
    assert "<script" not in run_html.lower()
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in run_html
    assert "<img src=http" not in run_html and "&lt;img src=http://evil.example" in run_html
    assert "<i>clashes</i>" not in run_html and "&lt;i&gt;clashes&lt;/i&gt;" in run_html


class Tags(HTMLParser):
    """Every tag of a page with its attributes, as a browser parses them."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_nothing_is_loaded_from_anywhere(run_html):
    tags = Tags(run_html).tags
    assert not {"script", "link", "iframe", "object", "embed", "base"} & {t for t, _ in tags}
    fetching = ("src", "href", "srcset", "action", "poster", "background", "style")
    values = [attrs[a] or "" for _, attrs in tags for a in fetching if a in attrs]
    assert values and all(v.startswith("data:image/png;base64,") for v in values)
    assert "url(" not in run_html and "@import" not in run_html
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', run_html)
    assert policy is not None
    assert html.unescape(policy[1]).startswith("default-src 'none'; img-src data:;")


def test_figures_are_inline_pngs(run_html):
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', run_html)
    assert len(images) == 4  # queues (and waits), returns, stocks, who waits
    assert all(base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n") for data in images)


# ---------------------------------------------------------------- scenario and provenance
def test_the_policy_timeline_is_a_dated_list_in_order(run_html):
    dates = re.findall(r'<time datetime="([0-9-]+)">', run_html)
    assert dates == sorted(dates)
    assert dates[0] == "2025-02-01" and dates[-1] == "2025-04-08"
    items = dict(re.findall(r'<time datetime="([0-9-]+)">[0-9-]+</time>([^<]*)</li>', run_html))
    assert "torkham closed through 2025-03-20" in items["2025-02-21"]
    assert {"2025-03-31", "2025-04-01"} <= set(items)


def test_every_dated_rule_is_in_the_timeline():
    events = [
        "event: deadline_extension, date: 2025-03-15, group: acc, new_deadline: 2025-04-30",
        "event: hazard_change, date: 2025-03-02, group: undocumented, multiplier: 2.5",
        "event: opening_hours, date: 2025-03-03, crossing: chaman, open_hour: 6, close_hour: 20",
        "event: crackdown_change, date: 2025-04-05, arrest_capacity_persons_per_day: 777",
    ]
    events = [f"timeline+={{{event}}}" for event in events]
    scenario = load_scenario(TORKHAM, [*SMALL, *events])
    texts = {str(day): text for day, text in policy_timeline(scenario)}
    assert texts["2025-03-15"] == "acc: deadline extended to 2025-04-30"
    assert texts["2025-03-02"] == "undocumented: voluntary return rate × 2.5"
    assert texts["2025-03-03"] == "chaman: open 6:00–20:00"
    assert "at most 777 arrests/day" in texts["2025-04-05"]
    days = [day for day, _ in policy_timeline(scenario)]
    assert days == sorted(days)


def test_enforcement_and_camp_rules_are_in_the_timeline_in_words():
    """The forecast scenario's lapse, shield, campaign, camp closures and transport in words."""
    scenario = load_scenario(ROOT / "scenarios" / "ifrp_2025_forecast.yaml")
    texts: dict[str, list[str]] = {}
    for day, text in policy_timeline(scenario):
        texts.setdefault(str(day), []).append(text)
    assert "por: legal status lapses" in texts["2025-06-30"]
    assert "undocumented: legal status lapsed on 2023-10-31" in texts["2025-02-01"]
    assert min(texts) == "2025-02-01"  # nothing before the calendar
    assert "por: no arrests through 2025-07-31" in texts["2025-07-05"]
    assert "arrest campaign por_detentions on por through 2025-08-31" in texts["2025-08-01"]
    assert "por: 20% of camp residents pushed out (0.02/day)" in texts["2025-09-01"]
    assert "deportation transport: 16 convoys a day per crossing" in texts["2025-04-01"]
    assert "holding centres: 4,300 persons" in texts["2025-04-01"]


def test_provenance_shows_what_made_the_results(folders, run_html):
    manifest = json.loads((folders["run"] / MANIFEST).read_text())
    for value in (manifest["version"], manifest["runner"], manifest["scenario_sha256"],
                  str(manifest["replication_seeds"][0]), str(TORKHAM)):  # fmt: skip
        assert value in run_html
    assert f"{manifest['wall_seconds']:,.1f} s" in run_html
    assert "populations.acc.persons=3000" in run_html


# ---------------------------------------------------------------- compare, size, sweep
def test_a_comparison_shows_its_differences_with_intervals(folders):
    page = build_report(open_folder(folders["compare"]))
    table = pd.read_csv(folders["compare"] / "differences.csv", keep_default_na=False,
                        na_values=[""])  # fmt: skip
    row = table[(table["outcome"] == "persons_returned") & (table["group"] == "acc")
                & (table["mode"] == "all")].iloc[0]  # fmt: skip
    assert row["ci_low"] > 0 or row["ci_high"] < 0, "the extension must move acc returns"
    line = (f"<td>extend</td><td>persons_returned</td><td>acc / all</td><td class=\"num\">"
            f"{fmt(row['difference'])}</td><td>95% CI {fmt(row['ci_low'])} to "
            f"{fmt(row['ci_high'])}</td>")  # fmt: skip
    assert line in page
    assert f"All {len(table):,} differences" in page
    assert "new_deadline: 2025-04-30" in page  # the variant's override


def test_a_sizing_shows_its_answer_and_evidence(folders):
    page = build_report(open_folder(folders["size"]))
    manifest = json.loads((folders["size"] / MANIFEST).read_text())
    evidence = pd.read_csv(folders["size"] / "sizing.csv")
    assert manifest["servers"] is not None
    assert f"Answer: {manifest['servers']} servers at gate.desk meet" in page
    for row in evidence.itertuples():
        assert f'<td class="num">{row.servers}</td><td>{row.met} of {row.replications}' in page


def test_a_sweep_shows_response_curves_by_design_point(folders):
    page = build_report(open_folder(folders["sweep"]))
    assert "Outcomes against crossings.gate.stages.desk.servers" in page
    assert page.count("data:image/png;base64,") == 1
    # point 2 (8 servers): 40/8 + 0 and 40/8 + 1 over its two replications; cut at 0 below
    assert f'<td>2</td><td>8</td><td class="num">{fmt(1080.5)} ' in page
    assert f'<td class="num">{fmt(5.5)} (95% CI 0.00 to {fmt(5.5 + 6.353)})</td>' in page


# ---------------------------------------------------------------- writing
def _cli(*argv: str) -> int:
    parser = Parser(prog="repatsim")
    add_report_parser(parser.add_subparsers(dest="command", required=True))
    args: argparse.Namespace = parser.parse_args(["report", *argv])
    return report_command(args)


def _copy(source: Path, to: Path) -> Path:
    to.mkdir()
    for path in source.iterdir():
        (to / path.name).write_bytes(path.read_bytes())
    return to


def test_the_report_is_listed_so_the_folder_stays_repatsims(folders, tmp_path, capsys):
    folder = _copy(folders["compare"], tmp_path / "c")
    assert _cli(str(folder)) == 0
    assert capsys.readouterr().out.strip() == f"wrote {folder / REPORT}"
    assert REPORT in json.loads((folder / MANIFEST).read_text())["files"]
    check_destination(folder)  # raises if the folder held a file repatsim did not list
    assert _cli(str(folder)) == 0  # and again: a report replaces its report
    assert json.loads((folder / MANIFEST).read_text())["files"].count(REPORT) == 1
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["differences.csv", "outcomes.csv", MANIFEST, REPORT]
    )


def test_a_failed_report_changes_nothing(folders, tmp_path, monkeypatch):
    folder = _copy(folders["size"], tmp_path / "s")
    write_report(folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def disk_full(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("simulation.report.writing.os.replace", disk_full)
    assert _cli(str(folder)) == 1
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_out_writes_elsewhere_and_never_over_a_users_file(folders, tmp_path, capsys):
    mine = tmp_path / "notes.html"
    mine.write_text("<p>my notes</p>")
    assert _cli(str(folders["sweep"]), "--out", str(mine)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a repatsim report" in err
    assert mine.read_text() == "<p>my notes</p>"
    out = tmp_path / "sweep.html"
    assert _cli(str(folders["sweep"]), "--out", str(out)) == 0
    assert _cli(str(folders["sweep"]), "--out", str(out)) == 0  # a report may be replaced
    assert "Sweep: response curves" in out.read_text()
    assert REPORT not in json.loads((folders["sweep"] / MANIFEST).read_text())["files"]


@pytest.mark.parametrize("case", ["missing", "empty", "foreign manifest", "a file", "bad json"])
def test_a_folder_that_is_not_repatsims_is_refused_in_one_line(tmp_path, capsys, case):
    folder = tmp_path / "f"
    if case == "a file":
        folder.write_text("x")
    elif case != "missing":
        folder.mkdir()
    if case == "foreign manifest":
        (folder / MANIFEST).write_text('{"files": []}')
    if case == "bad json":
        (folder / MANIFEST).write_text('{"package": "repatsim", ')
    assert _cli(str(folder)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {folder}")
    assert not (folder / REPORT).exists() if folder.is_dir() else True


def test_run_with_report_writes_it_listed_in_the_manifest(tmp_path: Path) -> None:
    import json

    from simulation.cli import main
    from tests.conftest import ROOT

    out = tmp_path / "r"
    args = ["run", str(ROOT / "scenarios" / "textbook_mmc.yaml"), "-n", "2", "--quiet",
            "--set", "calendar.end=2025-01-05", "--out", str(out), "--report"]  # fmt: skip
    assert main(args) == 0
    assert "report.html" in json.loads((out / "manifest.json").read_text())["files"]
    assert "<html" in (out / "report.html").read_text()[:500].lower()


def test_a_score_folder_shows_simulated_against_observed(tmp_path: Path) -> None:
    from simulation.cli import main
    from tests.conftest import ROOT

    observed = tmp_path / "obs.csv"
    header = ("date_start,date_end,crossing,population_group,metric,value,unit,source_title,"
              "source_url,notes\n")  # fmt: skip
    observed.write_text(header + "2025-01-02,2025-01-04,all_Pakistan,all,returns_total,1000,"
                        "persons,A <b>test</b> source,https://example.org,series=UN; "
                        "source_type=un\n")  # fmt: skip
    out = tmp_path / "s"
    mmc = str(ROOT / "scenarios" / "textbook_mmc.yaml")
    args = ["score", mmc, "--observed", str(observed), "-n", "2",
            "--set", "calendar.end=2025-01-05", "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    page = write_report(out).read_text()
    assert "Fit to observed figures" in page and "mean ARD" in page
    assert page.count("data:image/png;base64,") >= 1
