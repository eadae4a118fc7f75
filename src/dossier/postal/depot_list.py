"""The deposit list of registered letters ("liste de dépôt des envois recommandés").

A company depositing several registered letters hands the counter a list of them: the
sender, the date, and per letter its number, recipient, postcode, level (R1, R2, R3) and
whether an avis de réception is asked for, with the totals. La Poste publishes no layout
for it; this one follows those fields. A number not known when printing is a blank to
fill in by hand from the label.

The pages are drawn directly with the embedded WinAnsi fonts (a list of hundreds of rows
costs milliseconds); the same input gives the same bytes.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from dossier.fmt import date_long
from dossier.render.winansi import add_font_resources, font

MM = 72 / 25.4
A4 = (595.276, 841.890)
LEFT, RIGHT = 15 * MM, A4[0] - 15 * MM
TOP, BOTTOM = A4[1] - 15 * MM, 18 * MM
SIZE = 8.5
ROW = 2 * SIZE * 1.25 + 4  # two text lines and padding

# (title, width in mm, style)
COLUMNS = (("N°", 9, "sans"), ("Numéro de l'envoi", 42, "sans"), ("Destinataire", 56, "sans"),
           ("Code postal", 19, "sans"), ("Commune", 32, "sans"), ("Niveau", 13, "sans"), ("AR", 9, "sans"))


def _n(x: float) -> bytes:
    s = f"{x:.3f}".rstrip("0").rstrip(".")
    return (s if s not in ("-0", "") else "0").encode()


def _text(ops: list[bytes], x: float, y: float, text: str, style: str = "sans", size: float = SIZE) -> None:
    f = font(style)
    ops.append(b"BT " + f.resource.encode() + b" " + _n(size) + b" Tf " + _n(x) + b" " + _n(y) + b" Td "
               + f.string(text) + b" Tj ET")


def _wrap(text: str, width: float, style: str = "sans", size: float = SIZE, lines: int = 2) -> list[str]:
    """``text`` in at most ``lines`` lines of ``width`` points (the last one ends with "…"
    when the text is longer: a list row, not an address)."""
    f = font(style)
    out: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if f.width(candidate, size) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
    out.append(current)
    if len(out) > lines:
        last = " ".join(out[lines - 1:])
        while last and f.width(last + "…", size) > width:
            last = last[:-1]
        out = out[: lines - 1] + [last.rstrip() + "…"]
    return out


def _rule(ops: list[bytes], y: float, grey: float = 0.6, width: float = 0.4) -> None:
    ops.append(_n(grey) + b" G " + _n(width) + b" w " + _n(LEFT) + b" " + _n(y) + b" m " + _n(RIGHT) + b" "
               + _n(y) + b" l S 0 G")


def _header(ops: list[bytes], sender: Any, on: date, batch_id: str, page: int, pages: int) -> float:
    y = TOP - 14
    _text(ops, LEFT, y, "Liste de dépôt des envois recommandés", "sans-bold", 14)
    y -= 16
    _text(ops, LEFT, y, f"Lot {batch_id} — préparé le {date_long(on)} — page {page}/{pages}", "sans", 9)
    y -= 18
    if sender is not None:
        _text(ops, LEFT, y, "Expéditeur :", "sans-bold", 9)
        _text(ops, LEFT + 22 * MM, y, sender.name, "sans", 9)
        for line in sender.address:
            y -= 11
            _text(ops, LEFT + 22 * MM, y, line, "sans", 9)
        if sender.customer_number:
            y -= 11
            _text(ops, LEFT + 22 * MM, y, f"N° client La Poste : {sender.customer_number}", "sans", 9)
    else:
        _text(ops, LEFT, y, "Expéditeur : ______________________________________________", "sans", 9)
    y -= 14
    _text(ops, LEFT, y, "Date de dépôt : ____ / ____ / ________", "sans", 9)
    y -= 16
    x = LEFT
    ops.append(b"0.92 g " + _n(LEFT) + b" " + _n(y - 5) + b" " + _n(RIGHT - LEFT) + b" " + _n(SIZE + 8) + b" re f 0 g")
    for title, w, _ in COLUMNS:
        _text(ops, x + 2, y, title, "sans-bold", SIZE)
        x += w * MM
    y -= 5
    _rule(ops, y, 0.3, 0.6)
    return y


def _row(ops: list[bytes], y: float, index: int, p: Any) -> None:
    lt = p.letter
    cells = [str(p.sequence), p.number or "", lt.debtor_name, lt.postcode,
             _commune(lt), lt.level, "oui" if lt.receipt else "non"]
    x = LEFT
    for (title, w, style), value in zip(COLUMNS, cells, strict=True):
        if title.startswith("Numéro") and not value:
            ops.append(b"0.4 G 0.5 w [1 1.5] 0 d " + _n(x + 2) + b" " + _n(y - ROW + 6) + b" m "
                       + _n(x + w * MM - 3) + b" " + _n(y - ROW + 6) + b" l S [] 0 d 0 G")
        else:
            for k, line in enumerate(_wrap(value, w * MM - 4, style)):
                _text(ops, x + 2, y - SIZE - 2 - k * SIZE * 1.25, line, style)
        x += w * MM
    _rule(ops, y - ROW)


def _commune(lt: Any) -> str:
    """The locality of the address's last French line (after the postcode), else empty."""
    lines = [x for x in lt.address if x.startswith(lt.postcode + " ")] if lt.postcode else []
    return lines[-1][len(lt.postcode) + 1:] if lines else ""


def _totals(ops: list[bytes], y: float, registered: list[Any]) -> float:
    receipts = sum(1 for p in registered if p.letter.receipt)
    levels = {lv: sum(1 for p in registered if p.letter.level == lv) for lv in ("R1", "R2", "R3")}
    y -= 16
    _text(ops, LEFT, y, f"Total : {len(registered)} envoi{'s' if len(registered) > 1 else ''} recommandé"
          f"{'s' if len(registered) > 1 else ''}, dont {receipts} avec avis de réception", "sans-bold", 10)
    y -= 13
    _text(ops, LEFT, y, "Par niveau : " + ", ".join(f"{lv} : {n}" for lv, n in levels.items()), "sans", 9)
    y -= 30
    _text(ops, LEFT, y, "Signature de l'expéditeur", "sans", 9)
    _text(ops, LEFT + 100 * MM, y, "Cachet et visa du bureau de poste", "sans", 9)
    ops.append(b"0.5 G 0.5 w " + _n(LEFT + 100 * MM) + b" " + _n(y - 70) + b" " + _n(80 * MM) + b" 62 re S 0 G")
    return y - 70


def deposit_list(registered: list[Any], sender: Any, on: date, batch_id: str) -> bytes:
    """The deposit list PDF of ``registered`` (job letters, in sequence order)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    # rows per page: the first page's header may be taller (sender's address)
    header_height = TOP - _header([], sender, on, batch_id, 1, 1)
    per_page = max(1, int((TOP - header_height - BOTTOM - 10) // ROW))
    last_room = max(0, int((TOP - header_height - BOTTOM - 150) // ROW))  # totals block on the last page
    chunks: list[list[Any]] = []
    rest = list(registered)
    while len(rest) > last_room:
        take = min(per_page, len(rest)) if len(rest) > last_room else len(rest)
        chunks.append(rest[:take])
        rest = rest[take:]
    chunks.append(rest)
    writer = PdfWriter()
    fonts_ref = add_font_resources(writer)
    index = 0
    for n, chunk in enumerate(chunks, start=1):
        ops: list[bytes] = []
        y = _header(ops, sender, on, batch_id, n, len(chunks))
        for p in chunk:
            index += 1
            _row(ops, y, index, p)
            y -= ROW
        if n == len(chunks):
            _totals(ops, y, registered)
        page = writer.add_blank_page(*A4)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts_ref})
        stream = DecodedStreamObject()
        stream.set_data(b"\n".join(ops))
        page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
    writer.add_metadata({"/Title": f"Liste de dépôt des envois recommandés — {batch_id}", "/Producer": "dossier"})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()
