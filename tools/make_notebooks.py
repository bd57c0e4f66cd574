"""Write the notebooks in notebooks/ from the cells below, executed, with their outputs.

    python tools/make_notebooks.py                 # all notebooks, into notebooks/
    python tools/make_notebooks.py quickstart      # one of them
    REPATSIM_FULL=1 python tools/make_notebooks.py --out full-notebooks   # full-scale figures

The notebooks run reduced versions of the scenarios (a share of the people, few replications) so
that they execute in seconds; ``REPATSIM_FULL=1`` makes them run the full scenarios (minutes to
an hour), and is refused for notebooks/ since their text describes the reduced runs.
tests/test_notebooks.py checks that the committed notebooks hold exactly these cells and that
they execute.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "notebooks"
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
TIMEOUT_SECONDS = 3600  # per cell; the full-scale runs are long
QUICKSTART_REPLICATIONS = 4  # of the reduced runs (tests/test_notebooks.py runs them all)
POLICY_REPLICATIONS = 6

SETUP = """import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

{imports}

# run from the repository root whether started there or in notebooks/
ROOT = Path.cwd() if (Path.cwd() / "scenarios").exists() else Path.cwd().parent
DEFAULT = ROOT / "scenarios/torkham_2025_acc.yaml"
FULL = os.environ.get("REPATSIM_FULL") == "1"  # the full scenario (see above)
RUNNER = LocalRunner(os.cpu_count() or 1) if FULL else None  # worker processes when it pays
pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 30)"""

SMALL_POLICY = """# 3% of the people, with the arrest capacity and the holding camps scaled alike
SMALL = [] if FULL else [
    "populations.acc.persons=24000",                 # full scenario: 800,000
    "populations.undocumented.persons=18000",        # 600,000
    "crackdown.arrest_capacity_persons_per_day=30",  # 950 (binding at both scales)
    "crackdown.holding.capacity_persons=130",        # 4,300
]
REPLICATIONS = 20 if FULL else {replications}"""

REDUCED = (
    "**Reduced run.** So that this notebook executes in seconds, it runs {what}, with "
    "{replications} replications. It shows the method and the direction and rough size of "
    "the effects, not the full-scale numbers. For the full figures run, from the repository "
    "root:\n\n"
    "```\nREPATSIM_FULL=1 python tools/make_notebooks.py {name} --out full-notebooks\n```\n\n"
    "which writes an executed copy of this notebook on the full scenario into "
    "`full-notebooks/` ({duration})."
)


def _setup(imports: str) -> NotebookNode:
    return new_code_cell(SETUP.format(imports=imports))


QUICKSTART = [
    new_markdown_cell(
        "# repatsim quickstart: the 2025 ACC deadline at Torkham and Chaman\n\n"
        "Run the default scenario (`scenarios/torkham_2025_acc.yaml`), read its summary with 95% "
        "confidence intervals, plot queues, returns and where people are, and compare a policy "
        "option (a two-week extension of the ACC deadline announced before the deadline) with "
        "`simulation.compare`, which gives paired differences with their intervals.\n\n"
        + REDUCED.format(
            what="the default scenario with 3% of its people (the arrest capacity and holding "
            "camps scaled alike)",
            replications=QUICKSTART_REPLICATIONS,
            name="quickstart",
            duration="a few minutes",
        )
    ),
    _setup(
        "from simulation import LocalRunner, compare, load_scenario, run_replications\n"
        "from simulation.plots import plot_differences, plot_queues, plot_returns, plot_stocks"
    ),
    new_code_cell(SMALL_POLICY.format(replications=QUICKSTART_REPLICATIONS)),
    new_code_cell(
        "base = load_scenario(DEFAULT, SMALL)\n"
        "results = run_replications(base, replications=REPLICATIONS, seed=1, runner=RUNNER)\n"
        "results.summary.head(12)"
    ),
    new_markdown_cell("Queues at every stage (mean and 5–95% band across replications):"),
    new_code_cell("plot_queues(results.daily_stage);"),
    new_code_cell("plot_returns(results.returns);"),
    new_code_cell("plot_stocks(results.stocks);"),
    new_markdown_cell(
        "## A policy option: extend the ACC deadline to 14 April 2025\n\n"
        "The extension is announced on 28 March; from that day the hazard ramps to the new "
        "deadline and the crackdown on ACC holders starts on 15 April.\n\n"
        "The extension is **appended** to the scenario's timeline with `timeline+=`. Setting "
        "`timeline=[...]` would replace the list and silently drop the scenario's other dated "
        "event (four more reception desks at Torkham from 1 April), so the two arms would differ "
        "in two ways at once. The variant's timeline keeps both:"
    ),
    new_code_cell(
        'EXTENSION = ("timeline+={event: deadline_extension, date: 2025-03-28, group: acc, "\n'
        '             "new_deadline: 2025-04-14}")\n'
        "events = load_scenario(DEFAULT, [*SMALL, EXTENSION]).timeline\n"
        "for event in events:\n"
        "    print(event)\n"
        "assert events[:-1] == base.timeline  # the scenario's own events are all still there"
    ),
    new_markdown_cell(
        "`compare` runs the baseline and the variant on the same replication seeds (common "
        "random numbers), so each difference is paired by replication: `difference` is the "
        "mean of variant − baseline, `ci_low`..`ci_high` its paired 95% interval. Rows with "
        "`group` or `mode` = `all` are totals."
    ),
    new_code_cell(
        'result = compare(DEFAULT, {"extension": [EXTENSION]}, replications=REPLICATIONS, seed=1,\n'
        "                 common=SMALL, runner=RUNNER)\n"
        'COLUMNS = ["outcome", "crossing", "group", "mode", "base_mean", "variant_mean",\n'
        '           "difference", "ci_low", "ci_high", "pairing_narrows"]\n'
        "table = result.differences\n"
        'table.loc[table["outcome"].isin(["persons_returned", "peak_daily_crossings"]), '
        "COLUMNS].round(1)"
    ),
    new_code_cell("plot_differences(result.differences);"),
    new_markdown_cell(
        "For the deadline question in depth (two extensions, why deportations of the "
        "undocumented rise, when pairing helps) see `policy_comparison.ipynb`; for sizing a "
        "stage, `capacity_planning.ipynb`."
    ),
]

POLICY = [
    new_markdown_cell(
        "# Extending the ACC deadline: how many fewer deportations?\n\n"
        "The analyst's question: if the deadline for Afghan Citizen Card (ACC) holders, "
        "31 March 2025 in the default scenario (`scenarios/torkham_2025_acc.yaml`), were "
        "extended by 15 or by 30 days, how many fewer people would be deported?\n\n"
        "Each option is a `deadline_extension` event announced on 20 March 2025, before the "
        "deadline, with a new deadline of 15 April (+15 days) or 30 April (+30 days). It is "
        "appended to the scenario's timeline with `timeline+=`, so the scenario's other dated "
        "event (more reception desks at Torkham from 1 April) stays in every arm and the arms "
        "differ only by the extension. `simulation.compare` runs the baseline and both options "
        "on the same replication seeds (common random numbers) and pairs the outcomes by "
        "replication.\n\n"
        + REDUCED.format(
            what="the default scenario with 3% of its people (the arrest capacity and holding "
            "camps scaled alike, so that arrests are as binding as at full scale)",
            replications=POLICY_REPLICATIONS,
            name="policy_comparison",
            duration="several minutes",
        )
    ),
    _setup(
        "from simulation import LocalRunner, compare, load_scenario\n"
        "from simulation.plots import plot_differences"
    ),
    new_code_cell(SMALL_POLICY.format(replications=POLICY_REPLICATIONS)),
    new_code_cell(
        '''def extension(new_deadline: str) -> str:
    """The ACC deadline moved to ``new_deadline``, announced on 20 March 2025 (appended)."""
    return ("timeline+={event: deadline_extension, date: 2025-03-20, group: acc, "
            f"new_deadline: {new_deadline}}}")


VARIANTS = {"plus15": [extension("2025-04-15")], "plus30": [extension("2025-04-30")]}
baseline_events = load_scenario(DEFAULT, SMALL).timeline
for name, overrides in VARIANTS.items():  # each option adds its event to the scenario's own
    assert load_scenario(DEFAULT, [*SMALL, *overrides]).timeline[:-1] == baseline_events
result = compare(DEFAULT, VARIANTS, replications=REPLICATIONS, seed=1, common=SMALL,
                 runner=RUNNER)
print(result.manifest["arms"], result.manifest["replications"], "replications each")'''
    ),
    new_markdown_cell(
        "## Persons returned, by group and mode\n\n"
        "One row per option and breakdown; rows with `group` = `all` or `mode` = `all` are "
        "totals. `difference` is the mean over replications of option − baseline, and "
        "`ci_low`..`ci_high` its **paired** 95% interval (Student t on the per-replication "
        "differences). `unpaired_ci_low`..`unpaired_ci_high` is the interval one would get "
        "treating the arms as independent samples (Welch), `correlation` is the correlation of "
        "the two arms across replications, and `pairing_narrows` says whether pairing gave the "
        "narrower interval."
    ),
    new_code_cell(
        'COLUMNS = ["variant", "group", "mode", "base_mean", "variant_mean", "difference",\n'
        '           "ci_low", "ci_high", "unpaired_ci_low", "unpaired_ci_high", "correlation",\n'
        '           "pairing_narrows", "n"]\n'
        "returned = result.differences.query(\"outcome == 'persons_returned'\")[COLUMNS]\n"
        "returned.round(1)"
    ),
    new_code_cell('plot_differences(result.differences, outcome="persons_returned");'),
    new_markdown_cell(
        "## Fewer ACC deportations, more undocumented ones\n\n"
        "ACC deportations fall, but deportations of undocumented Afghans rise: arrests are "
        "capped per day (the arrest capacity binds) and the holding camps and convoys are "
        "shared, so while ACC holders cannot yet be arrested, the day's arrests go to "
        "undocumented people instead. Total deportations therefore fall much less than ACC "
        "deportations do. In numbers (computed from the table above):"
    ),
    new_code_cell(
        """def row(variant: str, group: str, mode: str) -> pd.Series:
    mask = (returned["variant"] == variant) & (returned["group"] == group)
    return returned[mask & (returned["mode"] == mode)].iloc[0]


def verdict(r: pd.Series) -> str:
    if r["ci_high"] < 0:
        return "clearly fewer"
    return "clearly more" if r["ci_low"] > 0 else "no clear change: the interval includes 0"


for variant in VARIANTS:
    print(f"{variant}: deportations, option - baseline (paired 95% interval)")
    for group in ["acc", "undocumented", "all"]:
        r = row(variant, group, "deported")
        print(f"  {group:>12}: {r['difference']:+8,.0f} ({r['ci_low']:+,.0f} to "
              f"{r['ci_high']:+,.0f}) of {r['base_mean']:,.0f}: {verdict(r)}")"""
    ),
    new_markdown_cell(
        "## Where pairing does not narrow the interval\n\n"
        "Pairing narrows an interval when the two arms share their luck: a replication with "
        "many returns in the baseline also has many in the option (positive correlation). "
        "Where the option changes *who* is arrested on a given day, that link breaks: the arms "
        "are uncorrelated or negatively correlated across replications (or one arm does not "
        "vary at all, correlation NaN), and the paired interval is no narrower than the "
        "unpaired one. The paired interval is still valid there; it just gains nothing from "
        "the common random numbers. Here that is typically the total deportations: the daily "
        "arrest cap holds them nearly fixed in both arms, and what little they vary by depends "
        "on who fills the cap, which the option reshuffles. These rows are:"
    ),
    new_code_cell(
        'returned.loc[~returned["pairing_narrows"], ["variant", "group", "mode", "correlation",\n'
        '             "ci_low", "ci_high", "unpaired_ci_low", "unpaired_ci_high"]].round(2)'
    ),
]

CAPACITY = [
    new_markdown_cell(
        "# Sizing Torkham reception: how many desks keep waits short?\n\n"
        "In the default scenario (`scenarios/torkham_2025_acc.yaml`) returns through Torkham "
        "surge when it reopens on 21 March 2025, before the 31 March deadline and once arrests "
        "start. How many reception desks keep waits short? `simulation.size` answers: it tries "
        "desk counts on the same replication seeds (every count meets the same arrivals), "
        "galloping up from one desk (1, 2, 4, ...) until the target is met in at least "
        "`probability` of the replications, then bisecting. Every count it tried is reported "
        "as evidence, so the answer can be checked.\n\n"
        + REDUCED.format(
            what="the default scenario with 25% of its people (the arrest capacity and holding "
            "camps scaled alike) up to 10 April 2025, through the reopening surge, the deadline "
            "and the first ten days of arrests; with 4 replications, *at least 90%* means all 4",
            replications=4,
            name="capacity_planning",
            duration="up to an hour",
        )
    ),
    _setup(
        "from simulation import LocalRunner, load_scenario, size\n"
        "from simulation.plots import plot_sizing\n"
        "from simulation.theory import mmc"
    ),
    new_code_cell(
        """# 25% of the people (arrests and holding scaled alike), up to 10 April 2025
SMALL = [] if FULL else [
    "populations.acc.persons=200000",                 # full scenario: 800,000
    "populations.undocumented.persons=150000",        # 600,000
    "crackdown.arrest_capacity_persons_per_day=238",  # 950
    "crackdown.holding.capacity_persons=1075",        # 4,300
    "calendar.end=2025-04-10",                        # 2025-06-30
]
REPLICATIONS = 20 if FULL else 4
scenario = load_scenario(DEFAULT, SMALL)"""
    ),
    new_markdown_cell(
        "## Target: 95% of households wait at most 2 hours\n\n"
        "`p95_wait_hours<=2`: the 95th percentile of the wait at reception over the whole "
        "period, met in at least 90% of the replications."
    ),
    new_code_cell(
        """p95 = size(scenario, "torkham", "reception", "p95_wait_hours<=2", probability=0.9,
           replications=REPLICATIONS, seed=1, max_servers=32, runner=RUNNER)
print(f"desks needed: {p95.servers}")
print(f"note: {p95.note}")
p95.evidence.round(2)"""
    ),
    new_code_cell(
        "plot_sizing(p95.evidence, p95.target.value, probability=p95.probability,\n"
        "            outcome=p95.target.outcome);"
    ),
    new_markdown_cell(
        "**What the count means.** As the `note` says, the desks found apply on *every* date "
        "and replace the scenario's dated capacity change (the timeline event that takes "
        "Torkham reception from 10 to 14 desks on 1 April): the answer is one flat number of "
        "desks for the whole period. To keep the scenario's staffing plan and size its level "
        "instead, pass `scale=True`: the count tried becomes the base and every dated value is "
        "scaled in proportion (from 1 April, 14 × count / 10, rounded up):"
    ),
    new_code_cell(
        """planned = size(scenario, "torkham", "reception", "p95_wait_hours<=2", probability=0.9,
               replications=REPLICATIONS, seed=1, max_servers=32, scale=True, runner=RUNNER)
print(f"base desks needed: {planned.servers}")
print(f"note: {planned.note}")
planned.evidence.round(2)"""
    ),
    new_markdown_cell(
        "## Target: the worst day\n\n"
        "A percentile over the whole period can hide bad days. `worst_day_p95_wait_hours` is "
        "the highest *daily* 95th-percentile wait; here it must stay at most 2 hours.\n\n"
        "On a quiet day a single household that reaches reception just before closing waits "
        "overnight, and that can be the day's 95th percentile: more desks cannot shorten it. "
        "If the worst-day target is shorter than such a wait, no count meets it, `size` "
        "returns `servers=None`, and the evidence shows the outcome no longer falling as desks "
        "are added. Reduced runs have more quiet days (fewer households per day), so they meet "
        "this sooner than the full scenario."
    ),
    new_code_cell(
        """worst = size(scenario, "torkham", "reception", "worst_day_p95_wait_hours<=2",
             probability=0.9, replications=REPLICATIONS, seed=1, max_servers=32,
             runner=RUNNER)
print(f"desks needed: {worst.servers} (for the whole-period target: {p95.servers})")
worst.evidence.round(2)"""
    ),
    new_code_cell(
        "plot_sizing(worst.evidence, worst.target.value, probability=worst.probability,\n"
        "            outcome=worst.target.outcome);"
    ),
    new_markdown_cell(
        "## A check against theory: Erlang C\n\n"
        "`scenarios/textbook_mmc.yaml` is a single M/M/c stage (480 households a day, "
        "exponential 20-minute service), for which the Erlang C formula gives the steady-state "
        "mean wait exactly. Sizing it for a mean wait of at most 0.1 hours (6 minutes) should "
        "give the same count as the formula (the reduced run simulates one week, with 3 "
        "replications). The simulation starts empty, so its waits over a short run sit a "
        "little below the steady-state formula's."
    ),
    new_code_cell(
        """textbook = load_scenario(ROOT / "scenarios/textbook_mmc.yaml",
                         [] if FULL else ["calendar.end=2025-01-08"])
arrivals_per_hour = textbook.demand[0].schedule[0].rate_per_day / 24
service_per_hour = 60 / textbook.crossings["gate"].stages["desk"].service_minutes.per_household.mean


def erlang_c_wait_hours(servers: int) -> float:
    stable = servers * service_per_hour > arrivals_per_hour
    return mmc(arrivals_per_hour, service_per_hour, servers).wait_hours if stable else float("nan")


sized = size(textbook, "gate", "desk", "mean_wait_hours<=0.1", probability=0.9,
             replications=REPLICATIONS if FULL else 3, seed=7, max_servers=32, runner=RUNNER)
evidence = sized.evidence.assign(
    erlang_c_wait_hours=[erlang_c_wait_hours(c) for c in sized.evidence["servers"]])
formula = next(c for c in range(1, 100) if erlang_c_wait_hours(c) <= 0.1)
print(f"desks needed: simulation {sized.servers}, Erlang C {formula}")
evidence.round(4)"""
    ),
    new_code_cell(
        """fig = plot_sizing(evidence, sized.target.value, probability=sized.probability,
                  outcome=sized.target.outcome)
fig.axes[0].plot(evidence["servers"], evidence["erlang_c_wait_hours"], "^:", color="black",
                 label="Erlang C (M/M/c)")
fig.axes[0].legend(fontsize="small");"""
    ),
]

NOTEBOOKS = {"quickstart": QUICKSTART, "policy_comparison": POLICY, "capacity_planning": CAPACITY}


def build(name: str) -> NotebookNode:
    """The notebook ``name`` from its cells, not executed (cell ids are stable across builds)."""
    nb = new_notebook(cells=[nbformat.from_dict(dict(c)) for c in NOTEBOOKS[name]])
    for i, cell in enumerate(nb.cells):
        cell.id = f"{name}-{i}"
    nb.metadata["kernelspec"] = dict(KERNEL)
    return nb


def execute(nb: NotebookNode) -> NotebookNode:
    """Run ``nb`` in a fresh kernel started in notebooks/, importing this source tree."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    client = NotebookClient(
        nb, timeout=TIMEOUT_SECONDS, kernel_name=KERNEL["name"], record_timing=False,
        resources={"metadata": {"path": str(HERE)}},
    )  # fmt: skip
    client.execute(env=env)
    return nb


def main(argv: list[str] | None = None) -> int:
    """Write the named notebooks (default: all), executed; status 2 on a bad request."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", help=f"notebooks to write (default: all of {list(NOTEBOOKS)})"
    )
    parser.add_argument(
        "--out", type=Path, default=HERE, help="folder to write into (default: notebooks/)"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(NOTEBOOKS))
    if unknown:
        print(
            f"make_notebooks: no notebook {unknown[0]!r}; choose from {list(NOTEBOOKS)}",
            file=sys.stderr,
        )
        return 2
    if os.environ.get("REPATSIM_FULL") == "1" and args.out.resolve() == HERE:
        print(
            "make_notebooks: REPATSIM_FULL=1 needs --out DIR (notebooks/ holds the reduced runs)",
            file=sys.stderr,
        )
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or list(NOTEBOOKS):
        nbformat.write(execute(build(name)), args.out / f"{name}.ipynb")
        print(f"wrote {args.out / f'{name}.ipynb'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
