"""Regenerate the notebooks in notebooks/ from the cells below (outputs are not stored)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parents[1] / "notebooks"

SETUP = """import os
from pathlib import Path

import matplotlib.pyplot as plt

from simulation import load_scenario, run_replications, side_by_side
from simulation.plots import plot_queues, plot_returns, plot_stocks

# run from the repository root whether started there or in notebooks/
ROOT = Path.cwd() if (Path.cwd() / "scenarios").exists() else Path.cwd().parent
QUICK = os.environ.get("REPATSIM_QUICK") == "1"   # the test suite runs the notebooks quickly
REPLICATIONS = 2 if QUICK else 10"""

QUICKSTART = [
    new_markdown_cell(
        "# repatsim quickstart: the 2025 ACC deadline at Torkham and Chaman\n\n"
        "Run the default scenario, read its summary with 95% confidence intervals, plot queues, "
        "returns and where people are, and compare a policy option (a two-week deadline "
        "extension announced before the deadline)."
    ),
    new_code_cell(SETUP),
    new_code_cell(
        'base = load_scenario(ROOT / "scenarios/torkham_2025_acc.yaml")\n'
        "results = run_replications(base, replications=REPLICATIONS, seed=1)\n"
        "results.summary.head(12)"
    ),
    new_markdown_cell("Queues at every stage (mean and 5–95% band across replications):"),
    new_code_cell("plot_queues(results.daily_stage);"),
    new_code_cell("plot_returns(results.returns);"),
    new_code_cell("plot_stocks(results.stocks);"),
    new_markdown_cell(
        "## A policy option: extend the ACC deadline to 14 April 2025\n\n"
        "The extension is announced on 28 March; from that day the hazard ramps to the new "
        "deadline and the crackdown on ACC holders starts on 15 April."
    ),
    new_code_cell(
        "extension = load_scenario(\n"
        '    ROOT / "scenarios/torkham_2025_acc.yaml",\n'
        '    overrides=["timeline=[{event: deadline_extension, date: 2025-03-28, group: acc, '
        'new_deadline: 2025-04-14}]"],\n'
        ")\n"
        "option = run_replications(extension, replications=REPLICATIONS, seed=1)\n"
        'table = side_by_side({"baseline": results, "extension": option})\n'
        'table[table["outcome"].isin(["persons_returned", "peak_daily_crossings", '
        '"p95_wait_hours"]) & (table["stage"].isin(["", "pk_exit"]) | table["stage"].isna())]'
    ),
]

CAPACITY = [
    new_markdown_cell(
        "# Sizing a stage: how many desks keep waits humane?\n\n"
        "An NGO expects a given number of arrivals per day. For each number of desks we compare "
        "the simulated mean and 95th-percentile wait with the Erlang C (M/M/c) estimate."
    ),
    new_code_cell(SETUP + "\nimport pandas as pd\nfrom simulation.theory import mmc"),
    new_code_cell(
        "rows = []\n"
        "for desks in [7, 8, 9, 10, 12]:\n"
        '    scenario = load_scenario(ROOT / "scenarios/textbook_mmc.yaml",\n'
        '                             overrides=[f"crossings.gate.stages.desk.servers={desks}"])\n'
        "    r = run_replications(scenario, replications=REPLICATIONS, seed=7)\n"
        '    s = r.summary.set_index("outcome")\n'
        "    rows.append({\n"
        '        "desks": desks,\n'
        '        "mean_wait_hours": s.loc["mean_wait_hours", "mean"],\n'
        '        "ci_low": s.loc["mean_wait_hours", "ci_low"],\n'
        '        "ci_high": s.loc["mean_wait_hours", "ci_high"],\n'
        '        "p95_wait_hours": s.loc["p95_wait_hours", "mean"],\n'
        '        "erlang_c_wait_hours": mmc(20.0, 3.0, desks).wait_hours,\n'
        "    })\n"
        "sizing = pd.DataFrame(rows)\n"
        "sizing"
    ),
    new_code_cell(
        "fig, ax = plt.subplots(figsize=(7, 4))\n"
        'ax.errorbar(sizing["desks"], sizing["mean_wait_hours"],\n'
        '            yerr=[sizing["mean_wait_hours"] - sizing["ci_low"],\n'
        '                  sizing["ci_high"] - sizing["mean_wait_hours"]],\n'
        '            fmt="o", label="simulated mean wait (95% CI)")\n'
        'ax.plot(sizing["desks"], sizing["erlang_c_wait_hours"], "s--", label="Erlang C")\n'
        'ax.plot(sizing["desks"], sizing["p95_wait_hours"], "^:", label="simulated p95 wait")\n'
        'ax.set_xlabel("desks"); ax.set_ylabel("hours"); ax.set_yscale("log"); ax.legend();'
    ),
]


def main() -> None:
    """Write the notebooks."""
    HERE.mkdir(exist_ok=True)
    for name, cells in {"quickstart": QUICKSTART, "capacity_planning": CAPACITY}.items():
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(nb, HERE / f"{name}.ipynb")


if __name__ == "__main__":
    main()
