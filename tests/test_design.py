"""Experimental designs: full factorial grids and Latin hypercubes."""

from __future__ import annotations

import numpy as np

from simulation.experiments.design import Range, design_points, full_factorial, latin_hypercube


def test_full_factorial_crosses_every_value() -> None:
    points = full_factorial({"a": [1, 2], "b": ["x", "y", "z"]})
    assert len(points) == 6
    assert points[0] == {"a": 1, "b": "x"} and points[-1] == {"a": 2, "b": "z"}


def test_latin_hypercube_puts_one_point_in_each_stratum() -> None:
    points = latin_hypercube({"p": Range(0.0, 10.0), "q": Range(100.0, 200.0)}, 10, seed=4)
    for key, low, width in (("p", 0.0, 1.0), ("q", 100.0, 10.0)):
        strata = sorted(int((pt[key] - low) // width) for pt in points)
        assert strata == list(range(10))  # each tenth of the range holds exactly one point


def test_latin_hypercube_is_reproducible_and_rounds_integers() -> None:
    a = latin_hypercube({"n": Range(1, 9, integer=True)}, 5, seed=1)
    b = latin_hypercube({"n": Range(1, 9, integer=True)}, 5, seed=1)
    assert a == b
    assert all(isinstance(p["n"], int) and 1 <= p["n"] <= 9 for p in a)
    c = latin_hypercube({"n": Range(1.0, 9.0)}, 5, seed=2)
    assert not np.allclose(
        [p["n"] for p in c], [p["n"] for p in latin_hypercube({"n": Range(1.0, 9.0)}, 5, seed=1)]
    )


def test_design_crosses_the_grid_with_the_samples() -> None:
    points = design_points({"desks": [4, 6]}, {"rate": Range(0.1, 0.2)}, 3, seed=0)
    assert len(points) == 6
    assert [p["desks"] for p in points] == [4, 4, 4, 6, 6, 6]
    assert [p["rate"] for p in points[:3]] == [p["rate"] for p in points[3:]]
