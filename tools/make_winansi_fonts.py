"""Build the WinAnsi fonts that dossier draws its own PDF text with (stamps, page
numbers, the bordereau and the table of contents), from the vendored Liberation fonts.

    python tools/make_winansi_fonts.py [--check]

Each output font holds exactly the glyphs of the WinAnsi (cp1252) character set, without
hinting or layout tables, so it can be embedded whole as a simple TrueType font
(``/Encoding /WinAnsiEncoding``) in every dossier: about 17 KB per style, no subsetting at
run time, the same bytes in every file. The metrics PDF needs (advance widths of codes
32-255, bounding box, ascent, descent, cap height) go to ``winansi-metrics.json`` beside
them (``widths[i]`` is code ``32 + i``), so that drawing text needs no font library at
run time.

Licence: the Liberation fonts are under the SIL Open Font License 1.1 with the Reserved
Font Name "Liberation"; these subsets are Modified Versions, so they are renamed
("Dossier Stamp Sans", "Dossier Stamp Serif") and keep the copyright and licence records.

The build is deterministic (no timestamp is updated): ``--check`` rebuilds in memory and
fails if the committed files differ.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

FONTS = Path(__file__).resolve().parent.parent / "src" / "dossier" / "fonts"

#: output name -> (source file, family, subfamily, PostScript name)
STYLES = {
    "sans": ("LiberationSans-Regular.ttf", "Dossier Stamp Sans", "Regular", "DossierStampSans"),
    "sans-bold": ("LiberationSans-Bold.ttf", "Dossier Stamp Sans", "Bold", "DossierStampSans-Bold"),
    "serif": ("LiberationSerif-Regular.ttf", "Dossier Stamp Serif", "Regular", "DossierStampSerif"),
}


def winansi() -> dict[int, int]:
    """WinAnsi code -> Unicode code point, for the printable codes 32-255."""
    out = {}
    for code in range(32, 256):
        try:
            out[code] = ord(bytes([code]).decode("cp1252"))
        except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned
            continue
    return out


def build(style: str) -> tuple[bytes, dict]:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    src, family, sub, ps = STYLES[style]
    font = TTFont(FONTS / src, recalcTimestamp=False)
    codes = winansi()
    opts = subset.Options()
    opts.hinting = False
    opts.layout_features = []
    opts.notdef_outline = True
    opts.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "DSIG", "FFTM", "gasp"]
    opts.recalc_timestamp = False
    sub_setter = subset.Subsetter(opts)
    sub_setter.populate(unicodes=set(codes.values()))
    sub_setter.subset(font)

    name = font["name"]
    full = family if sub == "Regular" else f"{family} {sub}"
    for rec in list(name.names):
        if rec.nameID in (1, 3, 4, 6):
            value = {1: family, 3: f"dossier: {ps}", 4: full, 6: ps}[rec.nameID]
            name.setName(value, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
    buf = io.BytesIO()
    font.save(buf)
    data = buf.getvalue()

    upm = font["head"].unitsPerEm
    cmap = font.getBestCmap()
    hmtx = font["hmtx"]
    os2 = font["OS/2"]
    head = font["head"]

    def scale(v: float) -> int:
        return round(v * 1000 / upm)

    widths = {}
    for code, cp in codes.items():
        glyph = cmap.get(cp)
        if glyph is None:
            continue
        widths[code] = scale(hmtx[glyph][0])
    metrics = {
        "file": f"DossierStamp-{style}.ttf",
        "base_font": ps,
        "bold": sub == "Bold",
        "serif": style == "serif",
        # codes 32-255; an unassigned code has the width of .notdef
        "widths": [widths.get(code, scale(hmtx[".notdef"][0])) for code in range(32, 256)],
        "missing_width": scale(hmtx[".notdef"][0]),
        "bbox": [scale(head.xMin), scale(head.yMin), scale(head.xMax), scale(head.yMax)],
        "ascent": scale(os2.sTypoAscender),
        "descent": scale(os2.sTypoDescender),
        "cap_height": scale(getattr(os2, "sCapHeight", 0) or os2.sTypoAscender),
        "italic_angle": 0,
        "stem_v": 120 if sub == "Bold" else 80,
    }
    return data, metrics


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = ap.parse_args()
    all_metrics = {}
    files = {}
    for style in STYLES:
        data, metrics = build(style)
        files[metrics["file"]] = data
        all_metrics[style] = metrics
    files["winansi-metrics.json"] = (json.dumps(all_metrics, indent=1, sort_keys=True) + "\n").encode()
    bad = []
    for name, data in files.items():
        path = FONTS / name
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                bad.append(name)
        else:
            path.write_bytes(data)
            print(f"{path.relative_to(FONTS.parent.parent.parent)}: {len(data)} bytes")
    if bad:
        print("differ from a fresh build: " + ", ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
