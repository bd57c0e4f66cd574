"""Saving a laid-out figure as PNG faster, with the pixels matplotlib's Agg would draw.

Two thirds of writing a figure was drawing text and encoding the PNG. Matplotlib's Agg
renderer lays a string out again at every draw (a quarter of a millisecond per ten
characters) and resets the font's size before every glyph (which makes FreeType set up its
hinting again, twice the time of rendering the glyph); Pillow tries five row filters on every
row of the image and keeps an alpha channel that is opaque everywhere. Here a string's layout
is kept (by string, font and size: tick labels, month names and titles recur), the size is
set once per string and font, and an opaque image is written as RGB rows, unfiltered, at zlib
level :data:`PNG_COMPRESSION` (files as small as Pillow's at that level).
"""

from __future__ import annotations

import math
import struct
import threading
import zlib
from collections.abc import Callable
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib import cbook
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.ft2font import FT2Font, RenderMode

# zlib level of the PNGs: the default (6) takes half as long again to make files a tenth smaller
PNG_COMPRESSION = 1
LAYOUTS_KEPT = 4096  # string layouts kept (a few hundred per figure)

_layouts: dict[tuple[Any, ...], list[Any]] = {}
_metrics: dict[tuple[Any, ...], tuple[float, float, float]] = {}
# the private FreeType calls RendererAgg draws text with; without them, matplotlib draws it
_GLYPH_API = hasattr(RendererAgg, "_prepare_font") and all(
    hasattr(FT2Font, name) for name in ("_layout", "_set_transform", "_render_glyph")
)


class FastCanvas(FigureCanvasAgg):
    """An Agg canvas whose renderer keeps text layouts and whose PNGs are written by
    :func:`write_png`; used only while a figure is saved (see :func:`saving_with`)."""

    def get_renderer(self) -> RendererAgg:
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = TextKeepingRenderer(w, h, self.figure.dpi)
            self._lastKey = key  # type: ignore[assignment]
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


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(rgba: np.ndarray, dpi: float, text: dict[str, str], level: int) -> bytes:
    """A PNG of an (height, width, 4) uint8 image: RGB if it is opaque everywhere, each row
    unfiltered, with its resolution (``dpi``) and ``text`` (keyword: value) entries."""
    height, width = rgba.shape[:2]
    opaque = bool((rgba[..., 3] == 255).all())
    channels = 3 if opaque else 4
    rows = np.zeros((height, 1 + channels * width), dtype=np.uint8)  # filter byte 0
    rows[:, 1:].reshape(height, width, channels)[...] = rgba[..., :channels]  # one copy
    per_metre = round(dpi / 0.0254)
    header = struct.pack(">IIBBBBB", width, height, 8, 2 if opaque else 6, 0, 0, 0)
    parts = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header),
             _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))]  # fmt: skip
    parts += [_chunk(b"tEXt", f"{k}\0{v}".encode("latin-1")) for k, v in text.items() if v]
    parts += [_chunk(b"IDAT", zlib.compress(rows.tobytes(), level)), _chunk(b"IEND", b"")]
    return b"".join(parts)


class TextKeepingRenderer(RendererAgg):
    """Agg's renderer, keeping each string's layout and size (matplotlib keeps a size only
    for the renderer that measured it, and a saved figure gets a new renderer) and setting
    a font's size once per string rather than once per glyph (the same pixels)."""

    def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> Any:
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        key = (s, hash(prop), prop.get_size_in_points(), self.dpi, get_hinting_flag())
        if key not in _metrics:
            if len(_metrics) >= LAYOUTS_KEPT:
                _metrics.clear()
            _metrics[key] = super().get_text_width_height_descent(s, prop, ismath)
        return _metrics[key]

    def draw_text(self, gc: Any, x: float, y: float, s: str, prop: Any, angle: float,
                  ismath: Any = False, mtext: Any = None) -> None:  # fmt: skip
        if ismath or not _GLYPH_API:
            super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            return
        items = self._layout(s, prop, mtext)
        size = prop.get_size_in_points()
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        matrix = np.array([[round(0x10000 * cos), round(-0x10000 * sin)],
                           [round(0x10000 * sin), round(0x10000 * cos)]])  # fmt: skip
        flags = get_hinting_flag()
        mode = RenderMode.NORMAL if gc.get_antialiased() else RenderMode.MONO
        sized = set()
        for item in items:
            font = item.ft_object
            if id(font) not in sized:
                font.set_size(size, self.dpi)
                sized.add(id(font))
            dx, dy = item.x, item.y  # FreeType's y is upwards, in 1/64 pixels
            left, up = x + dx * cos - dy * sin, self.height - y + dx * sin + dy * cos
            font._set_transform(matrix, [round(0x40 * left), round(0x40 * up)])
            bitmap = font._render_glyph(item.glyph_index, flags, mode)
            buffer = bitmap.buffer
            if not gc.get_antialiased():
                buffer *= 0xFF
            self._renderer.draw_text_image(
                buffer, bitmap.left, int(self.height) - bitmap.top + buffer.shape[0], 0, gc
            )

    def _layout(self, s: str, prop: Any, mtext: Any) -> list[Any]:
        """The glyphs of ``s`` (font, index, offset) as ``FT2Font._layout`` gives them."""
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        flags = get_hinting_flag()
        key = (s, hash(prop), prop.get_size_in_points(), self.dpi, flags,
               None if features is None else tuple(features), language,
               threading.get_ident())  # fonts are per thread (get_font)  # fmt: skip
        items = _layouts.get(key)
        if items is None:
            font = self._prepare_font(prop)
            items = list(font._layout(s, flags=flags, features=features, language=language))
            if len(_layouts) >= LAYOUTS_KEPT:
                _layouts.clear()
            _layouts[key] = items
        return items
