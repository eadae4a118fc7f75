"""HTML fragment to plain text, for the text/plain part of emails.

Paragraphs become blocks separated by a blank line and wrapped at 76 columns, lists get
"- " bullets, tables become aligned columns (numbers right-aligned), images are dropped
(``alt`` text kept for the QR code). A user who wants hand-written text instead puts a
``letters/<stage>.txt`` template in their templates folder.
"""

from __future__ import annotations

import re
import textwrap

_WS = re.compile(r"[ \t\r\n\f\v]+")
WIDTH = 76


def html_to_text(html: str) -> str:
    from lxml import html as lhtml

    root = lhtml.fragment_fromstring(html or "", create_parent="div")
    blocks: list[str] = []
    _blocks(root, blocks)
    out = "\n\n".join(b for b in blocks if b.strip())
    return out.strip() + "\n"


BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "ul", "ol", "table", "section", "li"}


def _inline(el) -> str:
    parts: list[str] = []

    def walk(n, tail):
        tag = n.tag if isinstance(n.tag, str) else ""
        if tag == "br":
            parts.append("\n")
        elif tag == "img":
            if n.get("alt"):
                parts.append("")
        elif tag not in ("table", "ul", "ol", "style", "script"):
            if n.text:
                parts.append(_WS.sub(" ", n.text))
            for c in n:
                walk(c, True)
        if tail and n.tail:
            parts.append(_WS.sub(" ", n.tail))

    walk(el, False)
    text = "".join(parts)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def _wrap(text: str, indent: str = "", first: str = "") -> str:
    lines = []
    for i, para in enumerate(text.split("\n")):
        lines.append(
            textwrap.fill(para, WIDTH, initial_indent=first if i == 0 else indent, subsequent_indent=indent,
                          break_long_words=False, break_on_hyphens=False)
        )
    return "\n".join(lines)


def _blocks(el, out: list[str]) -> None:
    for c in el:
        tag = c.tag if isinstance(c.tag, str) else ""
        cls = set((c.get("class") or "").split())
        if not tag or tag in ("style", "script") or "no-text" in cls:
            pass
        elif tag == "table":
            out.append(_table(c))
        elif tag in ("ul", "ol"):
            items = []
            for n, li in enumerate(c.findall("li"), start=1):
                mark = "- " if tag == "ul" else f"{n}. "
                items.append(_wrap(_inline(li), " " * len(mark), mark))
            out.append("\n".join(items))
        elif tag in ("h1", "h2", "h3", "h4"):
            t = _inline(c)
            out.append(t.upper() if tag in ("h1", "h2") else t)
        elif any(isinstance(x.tag, str) and x.tag in BLOCK for x in c):
            if (c.text or "").strip():
                out.append(_wrap(_WS.sub(" ", c.text).strip()))
            _blocks(c, out)
        elif tag == "img":
            continue
        else:
            t = _inline(c)
            if t:
                out.append(_wrap(t))
        if (c.tail or "").strip():
            out.append(_wrap(_WS.sub(" ", c.tail).strip()))


def _table(table) -> str:
    """Aligned columns; a cell spanning columns takes their width (it does not widen the
    first one), numbers are right-aligned."""
    rows: list[list[tuple[str, int, bool]]] = []
    for tr in table.iter("tr"):
        cells = [
            (_inline(c).replace("\n", " "), int(c.get("colspan", 1)), "num" in (c.get("class") or ""))
            for c in tr if c.tag in ("td", "th")
        ]
        if any(t for t, _, _ in cells):
            rows.append(cells)
    if not rows:
        return ""
    n = max(sum(span for _, span, _ in r) for r in rows)
    widths = [0] * n
    for r in rows:
        col = 0
        for text, span, _ in r:
            if span == 1:
                widths[col] = max(widths[col], len(text))
            col += span
    for r in rows:  # a spanned cell longer than its columns widens the last of them
        col = 0
        for text, span, _ in r:
            if span > 1:
                room = sum(widths[col : col + span]) + 2 * (span - 1)
                if len(text) > room:
                    widths[col + span - 1] += len(text) - room
            col += span
    lines = []
    for r in rows:
        col, parts = 0, []
        for text, span, right in r:
            w = sum(widths[col : col + span]) + 2 * (span - 1)
            parts.append(text.rjust(w) if right else text.ljust(w))
            col += span
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)
