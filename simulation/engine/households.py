"""The household registry: who each household is, where it stands, and its queue ranks.

Households are numbered in the order they are added (the population first, then direct demand
and backlogs as they appear). Attributes are typed arrays (``array.array``), read by id on the
hot path and copied to numpy in one go (:meth:`columns`); the status is a ``bytearray``, also
read a day at a time through numpy (:meth:`at_home_mask`).
The registry keeps every priority order's ranks current itself: adding households or deporting
them updates the ranks, so no caller has to remember to.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

import numpy as np

from simulation.engine.records import DEPORTED, GONE, HOME

PRIORITY_CLASSES = ("deported", "vulnerable")


class Households:
    """Attributes of every household, population and direct demand alike."""

    def __init__(self, group_names: list[str]) -> None:
        self.group_names = group_names
        self.size = array("q")
        self.group = array("q")
        self.mode = array("q")
        self.crossing = array("q")
        self.vulnerable = array("b")  # 0 or 1
        self.status = bytearray()  # HOME, GONE or ARRESTED
        self.at_home = dict.fromkeys(group_names, 0)
        self._ranks: dict[tuple[str, ...], bytearray] = {}  # 1 byte each: cache-friendly
        self._deportations = 0  # calls of deport: the columns change only there and in add
        self._columns: tuple[tuple[int, int], dict[str, np.ndarray]] = ((-1, -1), {})

    def __len__(self) -> int:
        return len(self.size)

    def add(
        self,
        sizes: np.ndarray,
        group: int,
        mode: int,
        crossing: np.ndarray,
        vulnerable: np.ndarray | None = None,
        at_home: bool = False,
    ) -> int:
        """Append households (``at_home``: still in Pakistan); return the id of the first."""
        first, n = len(self.size), len(sizes)
        self.size.frombytes(np.asarray(sizes, dtype=np.int64).tobytes())
        self.group.frombytes(np.full(n, group, dtype=np.int64).tobytes())
        self.mode.frombytes(np.full(n, mode, dtype=np.int64).tobytes())
        self.crossing.frombytes(np.asarray(crossing, dtype=np.int64).tobytes())
        flags = np.zeros(n, dtype=np.int8) if vulnerable is None else vulnerable.astype(np.int8)
        self.vulnerable.frombytes(flags.tobytes())
        self.status.extend(bytes([HOME if at_home else GONE]) * n)
        if at_home:
            self.at_home[self.group_names[group]] += n
        for order, ranks in self._ranks.items():
            ranks.extend(self._ranks_of(order, first, first + n))
        return first

    def columns(self) -> dict[str, np.ndarray]:
        """``size``, ``group``, ``mode`` (int64) and ``vulnerable`` (bool) as numpy arrays by
        household id: converted once while the registry is unchanged (the end of a run reads
        them several times). Copies: changing them changes nothing here."""
        state = (len(self.size), self._deportations)
        if self._columns[0] != state:
            columns = {
                "size": np.array(self.size, dtype=np.int64),
                "group": np.array(self.group, dtype=np.int64),
                "mode": np.array(self.mode, dtype=np.int64),
                "vulnerable": np.array(self.vulnerable, dtype=bool),
            }
            self._columns = (state, columns)
        return self._columns[1]

    def leave_home(self, households: Iterable[int], status: int = GONE) -> None:
        """Mark households as no longer at home (gone, or arrested)."""
        names, at_home = self.group_names, self.at_home
        for hh in households:
            self.status[hh] = status
            at_home[names[self.group[hh]]] -= 1

    def at_home_mask(self, households: np.ndarray) -> np.ndarray:
        """Which of ``households`` (ids) are still at home."""
        return np.frombuffer(self.status, dtype=np.uint8)[households] == HOME

    def leave_home_group(self, households: np.ndarray, group: int, status: int = GONE) -> None:
        """:meth:`leave_home` for households of one group, vectorised."""
        np.frombuffer(self.status, dtype=np.uint8)[households] = status
        self.at_home[self.group_names[group]] -= len(households)

    def deport(self, households: list[int]) -> None:
        """These households now travel as deportees (their queue ranks follow)."""
        self._deportations += 1
        ids = np.asarray(households, dtype=np.int64)
        np.frombuffer(self.mode, dtype=np.int64)[ids] = DEPORTED  # views: released at once
        vulnerable = np.frombuffer(self.vulnerable, dtype=np.int8)[ids] != 0
        for order, ranks in self._ranks.items():
            deported = np.ones(len(ids), dtype=bool)
            np.frombuffer(ranks, dtype=np.uint8)[ids] = _class_ranks(order, deported, vulnerable)

    def ranks(self, order: tuple[str, ...]) -> bytearray:
        """The queue rank of every household under a priority order (lower is served first):
        a sequence the registry keeps current as households are added or deported."""
        if order not in self._ranks:
            self._ranks[order] = bytearray(self._ranks_of(order, 0, len(self.size)))
        return self._ranks[order]

    def _ranks_of(self, order: tuple[str, ...], first: int, stop: int) -> list[int]:
        """Ranks of households ``first``..``stop - 1``: the position of the first class of
        ``order`` they belong to, or ``len(order)`` if none."""
        if first == 0:  # every household: the columns, converted once for all orders
            columns = self.columns()
            mode, vulnerable = columns["mode"][:stop], columns["vulnerable"][:stop]
        else:  # a few added: convert only theirs
            mode = np.asarray(self.mode[first:stop])
            vulnerable = np.asarray(self.vulnerable[first:stop], dtype=bool)
        out: list[int] = _class_ranks(order, mode == DEPORTED, vulnerable).tolist()
        return out


def _class_ranks(
    order: tuple[str, ...], deported: np.ndarray, vulnerable: np.ndarray
) -> np.ndarray:
    """Each household's rank under ``order``: the position of the first class of ``order`` it
    belongs to (``deported``, ``vulnerable``: a flag per household), or ``len(order)``."""
    classes = {"deported": deported, "vulnerable": vulnerable}
    ranks = np.full(len(deported), len(order))
    for i in reversed(range(len(order))):
        ranks[classes[order[i]]] = i
    return ranks
