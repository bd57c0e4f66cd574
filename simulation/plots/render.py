"""Saving a laid-out figure as PNG faster, with the pixels matplotlib's Agg draws.

A third of writing a figure was measuring text and encoding the PNG. Matplotlib keeps a
string's measured size only for the renderer that measured it, and every save makes a new
renderer, so tick labels, month names and titles were measured again at each save; Pillow
tries five row filters on every row of the image and keeps an alpha channel that is opaque
everywhere. Here a string's measured size is kept (by string, font, size, dpi and hinting),
and an opaque image is written as RGB rows, unfiltered, at zlib level :data:`PNG_COMPRESSION`
(files as small as Pillow's at that level). Only public matplotlib interfaces are used: the
renderer's ``get_text_width_height_descent`` and the canvas's ``print_png``.
"""

from __future__ import annotations

import gc
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib import cbook
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag

# zlib level of the PNGs: the default (6) takes half as long again to make files a tenth smaller
PNG_COMPRESSION = 1
SIZES_KEPT = 4096  # measured strings kept (a few hundred per figure)

_metrics: dict[tuple[Any, ...], tuple[float, float, float]] = {}


class FastCanvas(FigureCanvasAgg):
    """An Agg canvas whose renderer keeps measured text sizes and whose PNGs are written by
    :func:`png_bytes`; used only while a figure is saved (see :func:`saving_with`)."""

    def get_renderer(self) -> RendererAgg:
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if getattr(self, "_kept_key", None) != key:  # a new renderer when the size changes
            self.renderer = TextKeepingRenderer(w, h, self.figure.dpi)
            self._kept_key = key
        return self.renderer

    def print_png(self, filename_or_obj: Any, *, metadata: dict[str, str] | None = None,
                  pil_kwargs: dict[str, Any] | None = None, **_done: Any) -> None:  # fmt: skip
        """Draw the figure and write it as a PNG (``pil_kwargs``: only ``compress_level``
        is used; any other key hands the file to matplotlib's own writer). ``_done``: what
        ``print_figure`` passes on but has applied already (dpi, face colour...)."""
        if pil_kwargs and set(pil_kwargs) - {"compress_level"}:
            super().print_png(filename_or_obj, metadata=metadata, pil_kwargs=pil_kwargs)
            return
        FigureCanvasAgg.draw(self)
        level = (pil_kwargs or {}).get("compress_level", PNG_COMPRESSION)
        software = f"Matplotlib version{mpl.__version__}, https://matplotlib.org/"
        text = {"Software": software, **(metadata or {})}
        rgba = np.asarray(self.buffer_rgba())
        with cbook.open_file_cm(filename_or_obj, "wb") as fh:
            fh.write(png_bytes(rgba, self.figure.dpi, text, level))


def saving_with(figure: Any, save: Callable[[], None]) -> None:
    """Run ``save`` with ``figure`` on a :class:`FastCanvas`, then give it its canvas back."""
    canvas = figure.canvas
    FastCanvas(figure)
    try:
        save()
    finally:
        figure.set_canvas(canvas)


@contextmanager
def paused_gc() -> Iterator[None]:
    """No garbage collection inside (the collector left as it was after): matplotlib makes
    tens of thousands of objects per figure, all alive until the figure is closed, and the
    collections they set off rescan the whole process (its modules, pandas, the run's results)
    in vain: a tenth of a second of the plots at full scale. What was there before is frozen
    meanwhile, so the first collection after scans only the figures' objects, instead of
    all the process at once (a full collection, set off by so many new objects). Reference
    counting still frees what it can; closed figures are collected by a later collection.
    Objects frozen by a caller stay frozen."""
    enabled, freezing = gc.isenabled(), gc.get_freeze_count() == 0
    gc.disable()
    if freezing:
        gc.freeze()
    try:
        yield
    finally:
        if freezing:
            gc.unfreeze()
        if enabled:
            gc.enable()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(rgba: np.ndarray, dpi: float, text: dict[str, str], level: int) -> bytes:
    """A PNG of an (height, width, 4) uint8 image: RGB if it is opaque everywhere, each row
    unfiltered, with its resolution (``dpi``) and ``text`` (keyword: value) entries."""
    height, width = rgba.shape[:2]
    opaque = int(rgba[..., 3].min()) == 255
    channels = 3 if opaque else 4
    rows = np.empty((height, 1 + channels * width), dtype=np.uint8)
    rows[:, 0] = 0  # each row's filter byte: none
    rows[:, 1:].reshape(height, width, channels)[...] = rgba[..., :channels]  # the one copy
    per_metre = round(dpi / 0.0254)
    header = struct.pack(">IIBBBBB", width, height, 8, 2 if opaque else 6, 0, 0, 0)
    parts = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header),
             _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))]  # fmt: skip
    parts += [_chunk(b"tEXt", f"{k}\0{v}".encode("latin-1")) for k, v in text.items() if v]
    parts += [_chunk(b"IDAT", zlib.compress(rows.data, level)), _chunk(b"IEND", b"")]
    return b"".join(parts)


class TextKeepingRenderer(RendererAgg):
    """Agg's renderer, keeping each string's measured size across renderers (matplotlib
    keeps it only for the renderer that measured it, and a saved figure gets a new one)."""

    def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> Any:
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        key = (s, hash(prop), prop.get_size_in_points(), self.dpi, get_hinting_flag())
        if key not in _metrics:
            if len(_metrics) >= SIZES_KEPT:
                _metrics.clear()
            _metrics[key] = super().get_text_width_height_descent(s, prop, ismath)
        return _metrics[key]
