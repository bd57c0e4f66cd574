"""Service times drawn up front: per crossing and stage, one entry per household id.

Drawing a stage's service times with numpy before the run is much cheaper than one draw per
visit. Each population group draws its own households' times from its own stream (named by the
group, crossing and stage), and each direct-demand line from its own, so reordering groups or
adding a line elsewhere moves no one's service time. NaN marks a household with no time drawn
up front (it is drawn when served, from the stage's own stream).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import numpy as np

from simulation.engine.population import GroupDraw
from simulation.engine.sampling import service_hours
from simulation.engine.streams import Streams
from simulation.scenario.schema import Scenario


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
        self.hours: dict[str, list[array]] = {}
        for ci, (cname, crossing) in enumerate(scenario.crossings.items()):
            self.hours[cname] = []
            for sname, spec in crossing.stages.items():
                hours = np.full(households, np.nan)
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
                self.hours[cname].append(array("d", hours.tobytes()))

    def extend(
        self,
        crossing: str,
        first: int,
        sizes: np.ndarray,
        rngs: Sequence[np.random.Generator],
    ) -> None:
        """Draw the service hours of households ``first``.. (bound for ``crossing``) at each
        of its stages, stage ``k`` from ``rngs[k]``."""
        stages = self._scenario.crossings[crossing].stages.values()
        for preset, spec, rng in zip(self.hours[crossing], stages, rngs, strict=True):
            if len(preset) < first:
                preset.frombytes(np.full(first - len(preset), np.nan).tobytes())
            service = spec.service_minutes
            hours = service_hours(service.per_household, service.per_person, sizes, rng)
            preset.frombytes(hours.tobytes())
