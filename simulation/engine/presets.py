"""Service times drawn up front: per crossing and stage, a column of hours by household id.

Drawing a stage's service times with numpy before the run is much cheaper than one draw per
visit. Each population group draws its own households' times from its own stream (named by the
group, crossing and stage), and each direct-demand line from its own, so reordering groups or
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
        households = sum(len(d.sizes) for d in draws.values())
        self.tables: dict[str, list[array]] = {}  # crossing -> a column per stage
        for ci, (cname, crossing) in enumerate(scenario.crossings.items()):
            routed = {group: np.flatnonzero(draw.crossing == ci) for group, draw in draws.items()}
            columns = []
            for sname, spec in crossing.stages.items():
                hours = np.full(households, np.nan)
                for group, draw in draws.items():
                    mine = routed[group]
                    if len(mine) == 0:
                        continue
                    rng = streams.rng("population", group, "service", cname, sname)
                    hours[first_id[group] + mine] = service_hours(
                        spec.service_minutes.per_household,
                        spec.service_minutes.per_person,
                        draw.sizes[mine],
                        rng,
                    )
                column = array("d")
                column.frombytes(hours.tobytes())
                columns.append(column)
            self.tables[cname] = columns
        self._stages = {c: list(x.stages.values()) for c, x in scenario.crossings.items()}

    def column(self, crossing: str, k: int) -> PresetColumn:
        """Stage ``k`` of ``crossing``'s up-front hours."""
        return PresetColumn(self.tables[crossing][k], 1, 0)

    def extend(
        self,
        crossing: str,
        first: int,
        sizes: np.ndarray,
        rngs: Sequence[np.random.Generator],
    ) -> None:
        """Draw the service hours of households ``first``.. (bound for ``crossing``) at each
        of its stages, stage ``k`` from ``rngs[k]``."""
        stages, columns = self._stages[crossing], self.tables[crossing]
        for spec, rng, column in zip(stages, rngs, columns, strict=True):
            if len(column) < first:
                column.frombytes(np.full(first - len(column), np.nan).tobytes())
            service = spec.service_minutes
            hours = service_hours(service.per_household, service.per_person, sizes, rng)
            column.frombytes(hours.tobytes())
