"""Named random streams: each source of randomness draws from its own generator, keyed by a
stable name, never by its place in the call order.

Replication seed ``s`` and name ``("service", "torkham", "reception")`` give the generator of
``SeedSequence(s, spawn_key=<128-bit hash of the name>)``. Adding, removing or reordering a
source elsewhere in the scenario leaves every other stream where it was, so two policies
compared on the same seed differ only where they really differ (common random numbers).
"""

from __future__ import annotations

import hashlib

import numpy as np

SEPARATOR = "\x1f"  # cannot occur in a validated scenario name (control characters are refused)


def spawn_key(name: tuple[str, ...]) -> tuple[int, ...]:
    """The stable spawn key of a stream name: four 32-bit words of its BLAKE2b hash."""
    digest = hashlib.blake2b(SEPARATOR.join(name).encode("utf-8"), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


class Streams:
    """The named random streams of one replication (seed ``seed``).

    Each name may be asked for once per run: two sources sharing a name would share their
    draws, which is a wiring bug, so it raises.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._issued: set[tuple[str, ...]] = set()

    def rng(self, *name: str) -> np.random.Generator:
        """The generator of the stream called ``name`` (a tuple of words, e.g. a group)."""
        if name in self._issued:
            raise ValueError(f"random stream {name!r} was already issued in this run.")
        self._issued.add(name)
        sequence = np.random.SeedSequence(self.seed, spawn_key=spawn_key(name))
        return np.random.default_rng(sequence)

    @property
    def names(self) -> list[tuple[str, ...]]:
        """The streams issued so far, sorted (for tests and the manifest)."""
        return sorted(self._issued)
