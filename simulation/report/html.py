"""Building HTML safely: every piece of text is escaped unless it is already :class:`Html`.

Sections build their markup with :func:`el`, :func:`table` and :func:`join`, never by pasting
text into strings, so a scenario description holding ``<script>`` shows as text. The page has no
scripts, and its Content-Security-Policy forbids every request: figures are data URIs.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Sequence
from typing import Any

GENERATOR = "repatsim report"  # <meta name="generator">: how a file is known as a report
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
FIGURE_DPI = 100


class Html(str):
    """Text that is already HTML (built here, with every piece of data escaped)."""

    __slots__ = ()


def esc(value: object) -> Html:
    """``value`` as HTML: :class:`Html` as it is, anything else as escaped text."""
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Html:
    """Pieces of HTML (text pieces escaped) one after another."""
    return Html(esc(sep).join(esc(part) for part in parts))


def el(tag: str, *children: object, **attrs: object) -> Html:
    """``<tag attrs>children</tag>``; ``class_`` gives ``class``, ``data_x`` gives ``data-x``."""
    names = {key: key.rstrip("_").replace("_", "-") for key in attrs}
    attributes = "".join(f' {names[k]}="{esc(v)}"' for k, v in attrs.items() if v is not None)
    return Html(f"<{tag}{attributes}>{join(children)}</{tag}>")


def table(
    header: Sequence[str], rows: Iterable[Sequence[object]], numeric: Iterable[int] = ()
) -> Html:
    """A table; the columns numbered in ``numeric`` are right-aligned."""
    right = set(numeric)

    def cells(row: Sequence[object], tag: str) -> Html:
        return join(el(tag, v, class_="num" if i in right else None) for i, v in enumerate(row))

    head = el("thead", el("tr", cells(header, "th")))
    return el("table", head, el("tbody", join(el("tr", cells(r, "td")) for r in rows)))


def figure(fig: Any, caption: str) -> Html:
    """A matplotlib figure as an inline PNG (a data URI) with its caption; the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    finally:
        plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    image = Html(f'<img src="data:image/png;base64,{data}" alt="{esc(caption)}">')
    return el("figure", image, el("figcaption", caption))


# ---------------------------------------------------------------- numbers
def number(value: object) -> str:
    """A number for reading: thousands separators; 0 decimals from 100, 1 from 10, else 2."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return "–"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.1f}" if abs(x) >= 10 else f"{x:,.2f}"


def interval(low: object, high: object) -> str:
    """``95% CI low to high``, or a note when there is no interval (a single replication)."""
    if any(_missing(v) for v in (low, high)):
        return "no interval (one replication)"
    return f"95% CI {number(low)} to {number(high)}"


def _missing(value: object) -> bool:
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


# ---------------------------------------------------------------- the page
STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232b;
 max-width:1100px;margin:2em auto;padding:0 1.2em}
h1{font-size:1.6em;margin-bottom:.1em}h2{border-bottom:2px solid #d7dde5;padding-bottom:.2em;
 margin-top:2em}h3{margin-bottom:.3em}.sub{color:#5a6570;margin-top:0}
table{border-collapse:collapse;margin:.4em 0 1.2em;font-size:.92em;display:block;
 overflow-x:auto;max-width:100%}
th,td{border-bottom:1px solid #e3e7ec;padding:.25em .7em;text-align:left;vertical-align:top}
th{background:#f3f5f8}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.tiles{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}
.tile{border:1px solid #d7dde5;border-radius:6px;padding:.6em .9em;min-width:12em;flex:1}
.tile .label{color:#5a6570;font-size:.85em}.tile .value{font-size:1.5em;font-weight:600}
.tile .ci,.note{color:#5a6570;font-size:.85em}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #e3e7ec}
figcaption{color:#5a6570;font-size:.85em}ol.timeline{padding-left:1.2em}
ol.timeline time{font-variant-numeric:tabular-nums;font-weight:600;margin-right:.6em}
code{background:#f3f5f8;padding:0 .2em;word-break:break-all}
"""


def page(title: str, subtitle: str, sections: Iterable[Html]) -> Html:
    """The whole self-contained document."""
    head = join(
        [
            Html('<meta charset="utf-8">'),
            Html(f'<meta http-equiv="Content-Security-Policy" content="{esc(POLICY)}">'),
            Html(f'<meta name="generator" content="{GENERATOR}">'),
            Html('<meta name="viewport" content="width=device-width, initial-scale=1">'),
            el("title", title),
            el("style", Html(STYLE)),
        ]
    )
    body = join([el("h1", title), el("p", subtitle, class_="sub"), *sections])
    return Html(f'<!DOCTYPE html>\n<html lang="en"><head>{head}</head><body>{body}</body></html>\n')
