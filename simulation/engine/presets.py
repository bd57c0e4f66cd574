"""Service times drawn up front: per crossing, a table with a row per household id and a
column per stage.

Drawing a stage's service times with numpy before the run is much cheaper than one draw per
visit. A household's times at a crossing's stages sit side by side (row-major), so the stages it
passes one after the other read memory that is already in the processor's cache. Each
population group draws its own households' times from its own stream (named by the group,
crossing and stage), and each direct-demand line from its own, so reordering groups or
adding a line elsewhere moves no one's service time. NaN marks a household with no time drawn
up front (it is drawn when served, from the stage's own stream).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulation.engine.population import GroupDraw
from simulation.engine.sampling import service_hours
from simulation.engine.streams import Streams
from simulation.scenario.schema import Scenario


@dataclass(frozen=True)
class PresetColumn:
    """One stage's column of its crossing's table (``table[hh * stride + column]``)."""

    table: array
    stride: int
    column: int

    def gather(self, households: np.ndarray) -> np.ndarray:
        """The hours of ``households`` (NaN where none was drawn up front)."""
        hours = np.full(len(households), np.nan)
        if len(self.table):
            values = np.frombuffer(self.table, dtype=np.float64)
            index = households * self.stride + self.column
            known = index < len(values)
            hours[known] = values[index[known]]
        return hours


class ServicePresets:
    """Up-front service hours by household id, for every stage of every crossing."""

    def __init__(
        self,
        scenario: Scenario,
        streams: Streams,
        draws: dict[str, GroupDraw],
        first_id: dict[str, int],
    ) -> None:
        self._scenario = scenario
        households = sum(len(d.sizes) for d in draws.values())
        self.tables: dict[str, array] = {}
        for ci, (cname, crossing) in enumerate(scenario.crossings.items()):
            table = np.full((households, len(crossing.stages)), np.nan)
            for k, (sname, spec) in enumerate(crossing.stages.items()):
                hours = table[:, k]
                for group, draw in draws.items():
                    routed = np.flatnonzero(draw.crossing == ci)
                    if len(routed) == 0:
                        continue
                    rng = streams.rng("population", group, "service", cname, sname)
                    hours[first_id[group] + routed] = service_hours(
                        spec.service_minutes.per_household,
                        spec.service_minutes.per_person,
                        draw.sizes[routed],
                        rng,
                    )
            self.tables[cname] = array("d", table.tobytes())  # row-major

    def column(self, crossing: str, k: int) -> PresetColumn:
        """Stage ``k`` of ``crossing``'s up-front hours."""
        return PresetColumn(
            self.tables[crossing], len(self._scenario.crossings[crossing].stages), k
        )

    def extend(
        self,
        crossing: str,
        first: int,
        sizes: np.ndarray,
        rngs: Sequence[np.random.Generator],
    ) -> None:
        """Draw the service hours of households ``first``.. (bound for ``crossing``) at each
        of its stages, stage ``k`` from ``rngs[k]``."""
        stages = list(self._scenario.crossings[crossing].stages.values())
        table, stride = self.tables[crossing], len(stages)
        rows = len(table) // stride
        if rows < first:
            table.frombytes(np.full((first - rows) * stride, np.nan).tobytes())
        block = np.empty((len(sizes), stride))
        for k, (spec, rng) in enumerate(zip(stages, rngs, strict=True)):
            service = spec.service_minutes
            block[:, k] = service_hours(service.per_household, service.per_person, sizes, rng)
        table.frombytes(block.tobytes())
