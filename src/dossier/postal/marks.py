"""Inserter marks: what an envelope-stuffing machine reads on each sheet (pure).

Two kinds, both drawn on the recto of every sheet, at the place the print profile gives
(machines differ, so the geometry is a setting):

- ``omr``: a column of short horizontal bars, one track each, from the top:
  1 start (always), 2 insert/close (on the last sheet of a letter: fold and close the
  envelope), 3–5 the sheet's number within its letter modulo 8 (binary, most significant
  first: a sheet out of order or missing is caught), 6 parity (the marks 1–5 plus 6 are
  an even number), 7 end (always).
- ``2d``: a QR code per sheet holding ``D1;<letter sequence>;<sheet>/<sheets>;<I|C>``
  (I: insert and wait for the next sheet, C: close the envelope).
"""

from __future__ import annotations

from dataclasses import dataclass

MM = 72 / 25.4


@dataclass(frozen=True)
class InserterMarks:
    kind: str = "none"  # "none" | "omr" | "2d"
    #: left edge of the marks, mm from the sheet's left edge (outside the 5 mm clear margin)
    left_mm: float = 6.0
    #: first track (OMR) or top of the code (2D), mm from the sheet's top edge
    top_mm: float = 110.0
    #: OMR: bar length, thickness and track pitch (1/6 inch is common)
    length_mm: float = 8.0
    thickness_mm: float = 0.5
    pitch_mm: float = 4.23
    #: 2D: the code's side
    size_mm: float = 10.0

    def __post_init__(self) -> None:
        if self.kind not in ("none", "omr", "2d"):
            raise ValueError(f"inserter marks: {self.kind!r} is not one of none, omr, 2d")


def omr_tracks(sheet: int, sheets: int) -> tuple[bool, ...]:
    """The 7 OMR tracks of sheet ``sheet`` (1-based) of ``sheets``.

    >>> omr_tracks(1, 1)
    (True, True, False, False, True, True, True)
    >>> omr_tracks(2, 3)
    (True, False, False, True, False, False, True)
    """
    close = sheet == sheets
    n = sheet % 8
    bits = [bool(n & 4), bool(n & 2), bool(n & 1)]
    marks = [True, close, *bits]
    parity = sum(marks) % 2 == 1
    return (*marks, parity, True)


def code_text(sequence: int, sheet: int, sheets: int) -> str:
    """>>> code_text(12, 2, 3)
    'D1;12;2/3;I'
    """
    return f"D1;{sequence};{sheet}/{sheets};{'C' if sheet == sheets else 'I'}"


def _n(x: float) -> str:
    s = f"{x:.3f}".rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


def sheet_marks(marks: InserterMarks, sequence: int, sheet: int, sheets: int, page_height: float) -> bytes:
    """The content-stream operators drawing the marks of one sheet (default user space)."""
    if marks.kind == "omr":
        ops = ["q", "0 g"]
        x, w, h = marks.left_mm * MM, marks.length_mm * MM, marks.thickness_mm * MM
        for i, on in enumerate(omr_tracks(sheet, sheets)):
            if on:
                y = page_height - (marks.top_mm + i * marks.pitch_mm) * MM - h / 2
                ops.append(f"{_n(x)} {_n(y)} {_n(w)} {_n(h)} re f")
        ops.append("Q")
        return ("\n".join(ops) + "\n").encode("ascii")
    if marks.kind == "2d":
        import segno

        qr = segno.make_qr(code_text(sequence, sheet, sheets), error="m")
        matrix = qr.matrix
        side = len(matrix)
        module = marks.size_mm * MM / side
        x0 = marks.left_mm * MM
        top = page_height - marks.top_mm * MM
        ops = ["q", "0 g"]
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    ops.append(f"{_n(x0 + c * module)} {_n(top - (r + 1) * module)} {_n(module)} {_n(module)} re")
        ops += ["f", "Q"]
        return ("\n".join(ops) + "\n").encode("ascii")
    return b""
