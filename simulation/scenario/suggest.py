"""The one "did you mean" of every message: the closest known name to a misspelt one."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

MAX_SUGGESTED_FROM = 50  # beyond this many names, no suggestion (quadratic cost when many err)


def did_you_mean(name: str, known: Sequence[str], otherwise: str = "") -> str:
    """``did you mean 'x'?`` for the known name closest to ``name``; ``otherwise`` if none is
    close (or there are too many names to compare cheaply)."""
    if len(known) > MAX_SUGGESTED_FROM:
        return otherwise
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"did you mean '{close[0]}'?" if close else otherwise
