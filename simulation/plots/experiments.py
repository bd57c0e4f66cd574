"""Experiment figures: differences from a baseline, and sizing evidence against a target."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

from simulation.plots.style import count_label


def _key_label(row: pd.Series, keys: Sequence[str]) -> str:
    parts = [str(row[k]) for k in keys if isinstance(row[k], str) and row[k]]
    return " / ".join(parts) or "total"


def plot_differences(
    differences: pd.DataFrame, ax: Axes | None = None, outcome: str = "persons_returned"
) -> Figure:
    """Each variant's difference from the baseline in ``outcome`` with its paired 95% interval,
    one row per breakdown (e.g. group / mode), and a line at zero; ``differences`` is
    :attr:`simulation.Comparison.differences`. Counts get thousands separators."""
    rows = differences[differences["outcome"] == outcome]
    if rows.empty:
        known = ", ".join(sorted(set(differences["outcome"]))) or "none"
        raise ValueError(f"no differences for outcome {outcome!r} (the table has: {known})")
    keys = [k for k in ("crossing", "stage", "group", "mode") if k in rows.columns]
    labels = list(dict.fromkeys(_key_label(r, keys) for _, r in rows.iterrows()))
    variants = list(dict.fromkeys(rows["variant"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 1.5 + 0.5 * len(labels) * max(1, len(variants) / 2)))
    fig = ax.figure
    step = 0.7 / len(variants)
    for j, (variant, block) in enumerate(rows.groupby("variant", sort=False)):
        at = [labels.index(_key_label(r, keys)) for _, r in block.iterrows()]
        y = [i + (j - (len(variants) - 1) / 2) * step for i in at]
        diff = block["difference"].to_numpy(dtype=float)
        spread = [diff - block["ci_low"].to_numpy(dtype=float),
                  block["ci_high"].to_numpy(dtype=float) - diff]  # fmt: skip
        ax.errorbar(diff, y, xerr=spread, fmt="o", capsize=3, label=str(variant))
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    unit = str(rows["unit"].iloc[0]) if "unit" in rows.columns else ""
    if unit.startswith("person"):
        ax.xaxis.set_major_formatter(FuncFormatter(count_label))
    ax.set_xlabel(f"variant - baseline ({unit})" if unit else "variant - baseline")
    ax.set_title(f"{outcome}: difference from the baseline (paired 95% interval)")
    ax.legend(fontsize="small")
    return fig  # type: ignore[return-value]


def plot_sizing(
    evidence: pd.DataFrame,
    target_value: float,
    ax: Axes | None = None,
    probability: float | None = None,
    outcome: str = "outcome",
) -> Figure:
    """Sizing evidence (:attr:`simulation.Sizing.evidence`) per server count: the outcome's mean
    and worst replication with the target as a horizontal line (log scale when the values span
    more than 20-fold), each count labelled with its replications meeting the target. Without
    ``ax``, a second panel shows the share of replications meeting the target, with the
    required ``probability`` as a line."""
    if ax is None:
        fig, (ax, share_ax) = plt.subplots(1, 2, figsize=(11, 4))
        _share_panel(share_ax, evidence, probability)
    fig = ax.figure  # type: ignore[assignment]
    servers = evidence["servers"].to_numpy()
    ax.plot(servers, evidence["mean"].to_numpy(), "o-", label="mean of replications")
    ax.plot(servers, evidence["worst"].to_numpy(), "s--", label="worst replication")
    ax.axhline(target_value, color="tab:red", ls=":", label=f"target {target_value:g}")
    for x, y, met, n in evidence[["servers", "worst", "met", "replications"]].itertuples(False):
        ax.annotate(f"{met}/{n} met", (x, y), textcoords="offset points", xytext=(4, 4),
                    fontsize="x-small")  # fmt: skip
    values = evidence[["mean", "worst"]].to_numpy(dtype=float)
    if (values > 0).all() and values.max() > 20 * values.min():
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("servers")
    ax.set_ylabel(outcome)
    ax.set_title(f"{outcome} per server count")
    ax.legend(fontsize="small")
    return fig


def _share_panel(ax: Axes, evidence: pd.DataFrame, probability: float | None) -> None:
    """Share of replications meeting the target per server count, and the required share."""
    shares = evidence["share_met"].to_numpy(dtype=float)
    meets = shares >= probability if probability is not None else evidence["meets_target"]
    colours = ["tab:green" if m else "tab:grey" for m in meets]
    servers = evidence["servers"].to_numpy()
    ax.bar(servers, shares, color=colours, alpha=0.6)
    ax.scatter(servers, shares, c=colours, zorder=3)  # a share of 0 shows too
    if probability is not None:
        ax.axhline(probability, color="tab:red", ls=":", label=f"required {probability:g}")
        ax.legend(fontsize="small", loc="lower right")
    ax.set_ylim(0, 1.05)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("servers")
    ax.set_ylabel("share of replications meeting the target")
    ax.set_title("replications meeting the target (green: enough)")
