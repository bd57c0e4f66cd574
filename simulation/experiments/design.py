"""Experimental designs: which parameter values a sweep runs (EMA Workbench vocabulary).

*Levers* are what a decision-maker controls (desks, a deadline); *uncertainties* are what the
world does (a return hazard). Each is a dotted scenario key with either listed ``values`` or a
``low``..``high`` range. Listed values are crossed in a full-factorial grid; ranges are sampled
by a Latin hypercube of ``samples`` points (seeded), and the two are crossed.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Range:
    """A parameter sampled uniformly in [low, high] (rounded when ``integer``)."""

    low: float
    high: float
    integer: bool = False


def full_factorial(values: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the listed values, the last key varying fastest."""
    keys = list(values)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values.values())]


def latin_hypercube(ranges: Mapping[str, Range], samples: int, seed: int) -> list[dict[str, Any]]:
    """``samples`` points of a Latin hypercube over the ranges (reproducible for ``seed``)."""
    if not ranges:
        return [{}]
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(ranges), seed=np.random.default_rng(seed)).random(samples)
    points = []
    for row in unit:
        point: dict[str, Any] = {}
        for (key, spec), u in zip(ranges.items(), row, strict=True):
            value = spec.low + float(u) * (spec.high - spec.low)
            point[key] = round(value) if spec.integer else value
        points.append(point)
    return points


def design_points(
    values: Mapping[str, Sequence[Any]],
    ranges: Mapping[str, Range],
    samples: int,
    seed: int,
) -> list[dict[str, Any]]:
    """The grid of listed values crossed with the Latin hypercube of the ranges."""
    grid = full_factorial(values)
    sampled = latin_hypercube(ranges, samples, seed) if ranges else [{}]
    return [{**g, **s} for g in grid for s in sampled]
