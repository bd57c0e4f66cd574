"""Moments of the scenario's distribution specs (means and variances, in the key's unit)."""

from __future__ import annotations

import numpy as np

from simulation.scenario.schema import (
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    HouseholdSize,
    LogNormal,
)


def mean_of(dist: Distribution) -> float:
    """The distribution's mean."""
    if isinstance(dist, Fixed):
        return float(dist.value)
    if isinstance(dist, Empirical):
        w = np.ones(len(dist.values)) if dist.weights is None else np.asarray(dist.weights)
        return float(np.dot(dist.values, w) / w.sum())
    return float(dist.mean)


def variance_of(dist: Distribution) -> float:
    """The distribution's variance."""
    if isinstance(dist, Exponential):
        return float(dist.mean**2)
    if isinstance(dist, Gamma | LogNormal):
        return float(dist.sd**2)
    if isinstance(dist, Fixed):
        return 0.0
    w = np.ones(len(dist.values)) if dist.weights is None else np.asarray(dist.weights)
    m = mean_of(dist)
    return float(np.dot((np.asarray(dist.values) - m) ** 2, w) / w.sum())


def mean_household_size(spec: HouseholdSize) -> float:
    """Mean persons per household (ignoring the max_persons cap)."""
    if spec.values is None:
        assert spec.mean is not None
        return spec.mean
    w = np.ones(len(spec.values)) if spec.weights is None else np.asarray(spec.weights)
    return float(np.dot(spec.values, w) / w.sum())
