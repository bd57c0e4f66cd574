"""Print the README's forecast tables from a ``forecast.csv`` (thousands; mean [2.5%, 97.5%]).

Usage: python tools/forecast_table.py results/ifrp_2025_forecast/forecast.csv
"""

from __future__ import annotations

import sys

import pandas as pd

GROUPS = ("por", "acc", "undocumented")


def cell(table: pd.DataFrame, quantity: str, group: str, mode: str, month: str,
         scale: float = 1000.0) -> str:  # fmt: skip
    """One quantity of one month as 'mean [p2.5, p97.5]', divided by ``scale``."""
    row = table[(table["quantity"] == quantity) & (table["group"] == group)
                & (table["mode"] == mode) & (table["month"] == month)].iloc[0]  # fmt: skip
    mean, low, high = (row[k] / scale for k in ("mean", "p2_5", "p97_5"))
    return f"{mean:.0f} [{low:.0f}, {high:.0f}]"


def main(path: str) -> None:
    """Print the totals table and the group-by-mode table."""
    table = pd.read_csv(path)
    months = sorted(table["month"].unique())
    print("| month | all returns | voluntary | deported | deported share % | undocumented | ACC "
          "| PoR | arrests | UN cumulative (since 15 Sep 2023) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for m in months:
        cells = [
            cell(table, "returns", "all", mode, m) for mode in ("all", "voluntary", "deported")
        ]
        cells.append(cell(table, "deported_share", "all", "deported", m, 1.0))
        cells += [cell(table, "returns", g, "all", m) for g in ("undocumented", "acc", "por")]
        cells += [
            cell(table, "arrests", "all", "all", m),
            cell(table, "un_cumulative", "all", "all", m),
        ]
        print("| " + " | ".join([m, *cells]) + " |")
    print()
    print("| month | " + " | ".join(f"{g} {mode}" for g in GROUPS for mode in ("voluntary", "deported"))
          + " |")  # fmt: skip
    print("|---" * 7 + "|")
    for m in months:
        cells = [
            cell(table, "returns", g, mode, m) for g in GROUPS for mode in ("voluntary", "deported")
        ]
        print("| " + " | ".join([m, *cells]) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
