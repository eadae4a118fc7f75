#!/usr/bin/env python3
"""Regenerate the evidence files (``pieces/``) of the bundled sample cases.

    python samples/make_evidence.py          # rewrite every file
    python samples/make_evidence.py --check  # rebuild in memory, exit 1 if a file differs

Deterministic: running it twice gives byte-identical files (same versions of WeasyPrint,
pypdf, Pillow and poppler assumed). PDFs are rendered by WeasyPrint from the inline HTML
below, then rewritten by pypdf with fixed /CreationDate, /ModDate, /Producer and /ID.
Scans (JPEG, PNG) are rendered pages rasterised by ``pdftoppm`` at 150 dpi, turned to
greyscale, rotated a little and given seeded grey noise; saved without EXIF or timestamps.
The .eml files have a fixed Date, Message-ID and MIME boundaries.

Parties (names, addresses, SIREN, bank) and invoice totals come from each ``case.yaml``;
invoice lines, letters and other document texts are data in this script. The script checks
that the invoice lines add up to the amounts in ``case.yaml`` and that every ``file:`` the
case files name exists.

Everything here is fictitious: names, SIREN (Luhn-valid but invented), IBANs (checksums
valid, accounts invented), e-mail domains under the reserved ``.example`` TLD, phone numbers
in the ranges ARCEP reserves for fiction, La Poste numbers made up.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path

import yaml
from PIL import Image, ImageChops, ImageFilter
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, ByteStringObject
from weasyprint import HTML
from dossier.render import pdfapi

HERE = Path(__file__).resolve().parent
CENT = Decimal("0.01")
PARIS_WINTER = timezone(timedelta(hours=1))
PARIS_SUMMER = timezone(timedelta(hours=2))

# --------------------------------------------------------------------------- helpers


def D(x) -> Decimal:
    return Decimal(str(x))


def r2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def eur(x) -> str:
    """3840 -> '3 840,00 €' (non-breaking spaces)."""
    q = r2(D(x))
    sign = "-" if q < 0 else ""
    units, cents = f"{abs(q):.2f}".split(".")
    groups = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    nbsp = "\u00a0"
    return f"{sign}{nbsp.join(groups)},{cents}{nbsp}€"


def num(x) -> str:
    """Quantity or rate, French decimal comma, no trailing zeros."""
    s = format(D(x).normalize(), "f")
    return s.replace(".", ",")


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


def d_short(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def d_long(d: date) -> str:
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {MONTHS[d.month - 1]} {d.year}"


def tz_for(d: date) -> timezone:
    # good enough for sample timestamps: CEST from the last Sunday of March to October's
    def last_sunday(y, m):
        x = date(y, m, 31)
        return x - timedelta(days=(x.weekday() + 1) % 7)
    return PARIS_SUMMER if last_sunday(d.year, 3) <= d < last_sunday(d.year, 10) else PARIS_WINTER


def at(d: date, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=tz_for(d))


def pdf_date(dt: datetime) -> str:
    off = dt.utcoffset()
    hours = int(off.total_seconds() // 3600)
    return dt.strftime("D:%Y%m%d%H%M%S") + f"+{hours:02d}'00'"


def esc(s) -> str:
    return escape(str(s), quote=True)


def signature_svg(seed: str, width: int = 190, height: int = 60) -> str:
    """A scribbled, handwriting-like signature as inline SVG, from a seed."""
    rnd = random.Random(seed)
    x, y = 8.0, height * 0.6
    d = [f"M{x:.1f},{y:.1f}"]
    mean = (width - 30) / 7
    while x < width - 30:
        step = mean * rnd.uniform(0.5, 1.5)
        if rnd.random() < 0.3:  # a loop: the curve runs back over itself
            c1 = (x + step * 1.1, y - rnd.uniform(15, height * 0.6))
            c2 = (x - step * 0.4, y - rnd.uniform(5, height * 0.3))
        else:
            c1 = (x + step * 0.3, y - rnd.uniform(6, height * 0.55))
            c2 = (x + step * 0.7, y + rnd.uniform(2, height * 0.35))
        x += step
        y = height * 0.55 + rnd.uniform(-10, 10)
        d.append(f"C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {x:.1f},{y:.1f}")
    # the final flourish underlining the name
    d.append(f"M{width * 0.15:.1f},{height * 0.85:.1f} Q{width * 0.6:.1f},{height * 0.98:.1f} "
             f"{width - 5:.1f},{height * 0.72:.1f}")
    return (f'<svg class="sig" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'xmlns="http://www.w3.org/2000/svg"><path d="{" ".join(d)}" fill="none" '
            f'stroke="#1a2a6c" stroke-width="1.6" stroke-linecap="round" '
            f'stroke-linejoin="round"/></svg>')


def barcode_svg(seed: str, width_mm: float, height_mm: float) -> str:
    """A barcode-like stripe (not a decodable symbology): seeded bars, 0.25 mm module."""
    rnd = random.Random(seed)
    module = 0.25
    x, rects = 0.0, []
    while True:
        w = module * rnd.choice((1, 1, 1, 2, 2, 3, 4))
        if x + w > width_mm:
            break
        rects.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="{height_mm}"/>')
        x += w + module * rnd.choice((1, 1, 2, 2, 3))
    return (f'<svg width="{width_mm}mm" height="{height_mm}mm" viewBox="0 0 {width_mm} {height_mm}" '
            f'xmlns="http://www.w3.org/2000/svg"><g fill="#000">{"".join(rects)}</g></svg>')


def postmark_svg(top: str, bottom: str, middle: tuple[str, str], *, size_mm: float = 27,
                 angle: float = 0.0) -> str:
    """A round date stamp ("timbre à date"): the office around the top, the département
    around the bottom, the date in a band across the middle. Letters placed one by one."""
    c = size_mm / 2
    r_out, r_in = c - 0.4, c - 1.3
    fs = 2.6
    parts = [f'<circle cx="{c}" cy="{c}" r="{r_out}" fill="none" stroke="#222" stroke-width="0.45"/>',
             f'<circle cx="{c}" cy="{c}" r="{r_in}" fill="none" stroke="#222" stroke-width="0.25"/>']
    band = 3.6
    for y in (c - band, c + band):
        half = math.sqrt(r_in ** 2 - (y - c) ** 2)
        parts.append(f'<line x1="{c - half:.2f}" y1="{y:.2f}" x2="{c + half:.2f}" y2="{y:.2f}" '
                     f'stroke="#222" stroke-width="0.3"/>')

    def arc(text: str, radius: float, upper: bool, size: float) -> None:
        step = math.degrees(size * 0.66 / radius)
        start = -step * (len(text) - 1) / 2
        for i, ch in enumerate(text):
            a = start + i * step
            t = math.radians(a)
            if upper:
                x, y, rot = c + radius * math.sin(t), c - radius * math.cos(t), a
            else:
                x, y, rot = c + radius * math.sin(t), c + radius * math.cos(t), -a
            parts.append(f'<text x="0" y="0" transform="translate({x:.2f},{y:.2f}) rotate({rot:.1f})" '
                         f'text-anchor="middle" font-size="{size}">{esc(ch)}</text>')

    arc(top, r_in - 2.9, True, 2.9)
    arc(bottom, r_in - 0.7, False, 2.1)
    parts.append(f'<text x="{c}" y="{c - 0.4:.2f}" text-anchor="middle" font-size="3.1" '
                 f'font-weight="bold">{esc(middle[0])}</text>')
    parts.append(f'<text x="{c}" y="{c + 2.8:.2f}" text-anchor="middle" font-size="2.6">{esc(middle[1])}</text>')
    return (f'<svg class=postmark width="{size_mm}mm" height="{size_mm}mm" viewBox="0 0 {size_mm} {size_mm}" '
            f'xmlns="http://www.w3.org/2000/svg"><g transform="rotate({angle} {c} {c})" fill="#222" '
            f'font-family="Liberation Sans" font-size="{fs}" opacity="0.8">{"".join(parts)}</g></svg>')


def checkbox(checked: bool) -> str:
    """A printed tick box, crossed or not."""
    return f'<span class=cb>{"X" if checked else ""}</span>'


BASE_CSS = """
@page { size: A4; margin: 16mm 17mm 18mm 17mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #666; } }
body { font-family: "Liberation Serif", serif; font-size: 10.5pt; line-height: 1.3; color: #111; }
h1 { font-size: 17pt; margin: 0 0 2mm 0; letter-spacing: 0.5pt; }
h2 { font-size: 12pt; margin: 5mm 0 2mm 0; }
.small { font-size: 8.5pt; }
.muted { color: #555; }
.head { display: flex; justify-content: space-between; }
.seller { width: 55%; }
.seller .name { font-size: 15pt; font-weight: bold; }
.buyer { width: 40%; border: 0.6pt solid #999; padding: 3mm; margin-top: 10mm; }
table.lines { width: 100%; border-collapse: collapse; margin-top: 5mm; }
table.lines th { background: #e8e8e8; border-bottom: 0.8pt solid #333; text-align: left; padding: 1.5mm; font-size: 9.5pt; }
table.lines td { border-bottom: 0.4pt solid #bbb; padding: 1.5mm; vertical-align: top; }
td.n, th.n { text-align: right; white-space: nowrap; }
table.totals { margin-left: auto; margin-top: 4mm; border-collapse: collapse; min-width: 70mm; }
table.totals td { padding: 1mm 2mm; }
table.totals tr.grand td { font-weight: bold; border-top: 0.8pt solid #333; font-size: 11.5pt; }
.box { border: 0.6pt solid #999; padding: 2.5mm 3mm; margin-top: 4mm; }
.legal { font-size: 8.3pt; color: #333; margin-top: 5mm; border-top: 0.5pt solid #999; padding-top: 2mm; }
.sigblock { margin-top: 6mm; display: flex; justify-content: space-between; }
.sigblock > div { width: 45%; }
.stamp { display: inline-block; border: 1.4pt solid #444; color: #333; padding: 1.5mm 3mm;
         transform: rotate(-6deg); font-size: 8.5pt; text-align: center; margin-top: 2mm; }
.letter p { text-align: justify; margin: 0 0 2.6mm 0; }
.addr-to { margin-left: 95mm; margin-top: 14mm; margin-bottom: 10mm; }
"""


# --------------------------------------------------------------------------- case data access


@dataclass
class Ctx:
    name: str
    root: Path
    case: dict

    @property
    def cr(self) -> dict:
        return self.case["creditor"]

    @property
    def dr(self) -> dict:
        return self.case["debtor"]

    def invoice(self, number: str) -> dict:
        for inv in self.case["invoices"]:
            if inv["number"] == number:
                return inv
        raise KeyError(number)


def load(name: str) -> Ctx:
    root = HERE / name
    with open(root / "case.yaml", encoding="utf-8") as f:
        return Ctx(name, root, yaml.safe_load(f))


def party_name(p: dict) -> str:
    form = p.get("legal_form")
    if form and form != "EI":
        return f"{p['name']} {form}"
    return p["name"]


def addr_lines(p: dict) -> list[str]:
    a = p["address"]
    return [*a["lines"], f"{a['postal_code']} {a['city']}"]


def seller_block(p: dict, activity: str) -> str:
    ids = []
    if p.get("legal_form") == "EI":
        ids.append("Entrepreneur individuel (EI)")
    elif p.get("legal_form"):
        cap = f" au capital de {eur(p['capital'])}" if p.get("capital") else ""
        ids.append(f"{p['legal_form']}{cap}")
    if p.get("rcs_city"):
        ids.append(f"RCS {p['rcs_city']} {p['siren'][:3]} {p['siren'][3:6]} {p['siren'][6:]}")
    else:
        ids.append(f"SIREN {p['siren'][:3]} {p['siren'][3:6]} {p['siren'][6:]} — inscrit au RNE")
    if p.get("siret"):
        ids.append(f"SIRET {p['siret']}")
    if p.get("vat_number"):
        ids.append(f"TVA intracommunautaire {p['vat_number']}")
    contact = " · ".join(x for x in (p.get("phone"), p.get("email")) if x)
    return (f'<div class="seller"><div class="name">{esc(party_name(p))}</div>'
            f'<div class="muted">{esc(activity)}</div>'
            f'<div>{"<br>".join(esc(x) for x in addr_lines(p))}</div>'
            f'<div class="small">{esc(contact)}</div>'
            f'<div class="small muted">{"<br>".join(esc(x) for x in ids)}</div></div>')


def buyer_block(p: dict, label: str = "Client") -> str:
    lines = [party_name(p)] if p.get("kind") != "consumer" else [f"Mme {p['name']}"]
    if p.get("representative"):
        r = p["representative"]
        lines.append(f"À l'attention de {r['name']}, {r['title']}")
    lines += addr_lines(p)
    extra = ""
    if p.get("siren"):
        extra = (f'<div class="small muted">SIREN {esc(p["siren"])}'
                 + (f' · TVA {esc(p["vat_number"])}' if p.get("vat_number") else "") + "</div>")
    return (f'<div class="buyer"><div class="small muted">{esc(label)}</div>'
            f'<div>{"<br>".join(esc(x) for x in lines)}</div>{extra}</div>')


def bank_box(p: dict, reference: str) -> str:
    b = p["bank"]
    iban = " ".join(b["iban"][i:i + 4] for i in range(0, len(b["iban"]), 4))
    link = (f'<br>Paiement en ligne : {esc(p["payment_link"])}' if p.get("payment_link") else "")
    return (f'<div class="box small"><b>Règlement par virement</b> — {esc(b.get("bank_name", ""))}<br>'
            f'IBAN {esc(iban)} · BIC {esc(b["bic"])}<br>'
            f'Merci d\'indiquer la référence <b>{esc(reference)}</b> dans le libellé du virement.{link}</div>')


# --------------------------------------------------------------------------- writers


class Out:
    """Collects generated files; writes them, or compares them in --check mode."""

    def __init__(self, check: bool):
        self.check = check
        self.files: dict[Path, bytes] = {}

    def put(self, path: Path, data: bytes) -> None:
        if path in self.files:
            raise RuntimeError(f"generated twice: {path}")
        self.files[path] = data
        if not self.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def render_pdf(html: str, css: str = "") -> bytes:
    doc = f"<!doctype html><html lang=fr><head><meta charset=utf-8><style>{BASE_CSS}{css}</style></head><body>{html}</body></html>"
    return HTML(string=doc, base_url=str(HERE)).write_pdf()


def fix_pdf(raw: bytes, *, key: str, title: str, author: str, when: datetime) -> bytes:
    """Rewrite the PDF with fixed metadata and a fixed /ID derived from ``key``."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw)))
    stamp = pdf_date(when)
    writer.add_metadata({
        "/Title": title,
        "/Author": author,
        "/Creator": "dossier samples/make_evidence.py",
        "/Producer": "WeasyPrint + pypdf (dossier samples)",
        "/CreationDate": stamp,
        "/ModDate": stamp,
    })
    ident = ByteStringObject(hashlib.md5(f"dossier-sample:{key}".encode()).digest())
    pdfapi.set_file_id(writer, bytes(ident))
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def write_pdf(out: Out, ctx: Ctx, rel: str, html: str, *, title: str, when: datetime,
              author: str | None = None, css: str = "") -> bytes:
    data = fix_pdf(render_pdf(html, css), key=f"{ctx.name}/{rel}", title=title,
                   author=author or party_name(ctx.cr), when=when)
    out.put(ctx.root / rel, data)
    return data


def scan(html: str, *, seed: str, angle: float, css: str = "", dpi: int = 150,
         noise: int = 10) -> Image.Image:
    """Render ``html`` and make it look scanned: greyscale, slightly rotated, grey paper,
    soft edges and seeded noise."""
    pdf = render_pdf(html, css + "@page { @bottom-center { content: none } }")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "page.pdf"
        src.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", "1", "-l", "1",
                        "-singlefile", str(src), str(Path(tmp) / "page")], check=True)
        img = Image.open(Path(tmp) / "page.png").convert("L")
        img.load()
    img = img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    img = img.filter(ImageFilter.GaussianBlur(0.55))
    img = img.point(lambda v: 28 + v * 214 // 255)  # grey paper, ink not quite black
    rnd = random.Random(seed)
    w, h = img.size
    grain = Image.frombytes("L", (w, h), rnd.randbytes(w * h))
    grain = grain.point(lambda v: 128 + (v - 128) * noise // 128)
    img = ImageChops.add(img, grain, 1.0, -128)
    # a faint darker band on the left edge, as a flatbed scanner's lid leaves
    band = Image.linear_gradient("L").rotate(90, expand=True).resize((max(1, w // 40), h))
    band = band.point(lambda v: 255 - (255 - v) // 6)
    img.paste(ImageChops.multiply(img.crop((0, 0, band.width, h)), band), (0, 0))
    return img


def write_jpeg(out: Out, path: Path, img: Image.Image, dpi: int = 150, quality: int = 50) -> None:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=True, progressive=False,
             dpi=(dpi, dpi), subsampling=0)
    out.put(path, buf.getvalue())


def write_png(out: Out, path: Path, img: Image.Image, dpi: int = 150, levels: int = 16) -> None:
    step = 256 // levels
    img = img.point(lambda v: min(255, (v // step) * step + step // 2))
    img = img.quantize(colors=levels, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True, dpi=(dpi, dpi))
    out.put(path, buf.getvalue())


def write_eml(out: Out, path: Path, *, sender: str, to: str, cc: str | None, when: datetime,
              subject: str, body: str, msgid: str,
              attachments: list[tuple[str, bytes]] = ()) -> None:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Date"] = format_datetime(when)
    msg["Subject"] = subject
    msg["Message-ID"] = msgid
    msg["X-Mailer"] = "dossier sample"
    msg.set_content(body, cte="quoted-printable")
    for filename, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    for i, part in enumerate(msg.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_dossier_sample_{hashlib.md5(msgid.encode()).hexdigest()[:12]}_{i}")
    out.put(path, msg.as_bytes(policy=SMTP))


# --------------------------------------------------------------------------- documents


def lines_table(lines, vat_rate) -> tuple[str, Decimal, Decimal, Decimal]:
    rows = []
    ht = Decimal("0")
    for designation, qty, unit in lines:
        total = r2(D(qty) * D(unit))
        ht += total
        rows.append(f"<tr><td>{designation}</td><td class=n>{num(qty)}</td>"
                    f"<td class=n>{eur(unit)}</td><td class=n>{num(vat_rate)} %</td>"
                    f"<td class=n>{eur(total)}</td></tr>")
    vat = r2(ht * D(vat_rate) / 100)
    table = ("<table class=lines><tr><th>Désignation</th><th class=n>Qté</th>"
             "<th class=n>PU HT</th><th class=n>TVA</th><th class=n>Total HT</th></tr>"
             + "".join(rows) + "</table>")
    return table, ht, vat, ht + vat


def totals_table(ht, vat, vat_rate, ttc, label="Net à payer TTC", extra_rows="") -> str:
    return (f"<table class=totals><tr><td>Total HT</td><td class=n>{eur(ht)}</td></tr>"
            f"<tr><td>TVA {num(vat_rate)} %</td><td class=n>{eur(vat)}</td></tr>"
            f"{extra_rows}<tr class=grand><td>{label}</td><td class=n>{eur(ttc)}</td></tr></table>")


def invoice_doc(out: Out, ctx: Ctx, spec: dict, *, activity: str, penalty_mention: str,
                extra_legal: str = "", kind: str = "FACTURE") -> bytes:
    table, ht, vat, ttc = lines_table(spec["lines"], spec["vat"])
    number = spec["number"]
    if kind == "FACTURE":
        inv = ctx.invoice(number)
        want = (D(inv["amount_excl_tax"]), D(inv["amount_incl_tax"]))
        if (ht, ttc) != want:
            raise SystemExit(f"{ctx.name}: {number}: lines give HT {ht} TTC {ttc}, case.yaml says {want}")
        issued, due = inv["issued"], inv["due"]
        dates = (f"Date de facture : <b>{d_short(issued)}</b><br>"
                 f"Date d'échéance : <b>{d_short(due)}</b>"
                 + (f"<br>{esc(spec['ref'])}" if spec.get("ref") else ""))
        when = at(issued, 9, 30)
    else:  # credit note
        cn = next(c for c in ctx.case["credit_notes"] if c["number"] == number)
        if ttc != D(cn["amount"]):
            raise SystemExit(f"{ctx.name}: {number}: lines give TTC {ttc}, case.yaml says {cn['amount']}")
        issued = cn["date"]
        dates = (f"Date : <b>{d_short(issued)}</b><br>Facture d'origine : <b>{esc(cn['invoice'])}</b>"
                 + (f"<br>{esc(spec['ref'])}" if spec.get("ref") else ""))
        when = at(issued, 9, 30)
    pay = bank_box(ctx.cr, number) if kind == "FACTURE" else ""
    label = "Net à payer TTC" if kind == "FACTURE" else "Montant de l'avoir TTC"
    html = f"""
    <div class=head>{seller_block(ctx.cr, activity)}{buyer_block(ctx.dr)}</div>
    <h1 style="margin-top:8mm">{kind} N° {esc(number)}</h1>
    <div>{dates}</div>
    {f'<div style="margin-top:2mm"><i>{esc(spec["object"])}</i></div>' if spec.get("object") else ""}
    {table}
    {totals_table(ht, vat, spec["vat"], ttc, label)}
    {pay}
    <div class=legal>{penalty_mention}{extra_legal}</div>
    """
    title = f"{'Facture' if kind == 'FACTURE' else 'Avoir'} {number}"
    return write_pdf(out, ctx, f"pieces/{number}.pdf", html, title=title, when=when)


# ----- case 1: atelier-martin ------------------------------------------------------------

AM_ACTIVITY = "Menuiserie — agencement sur mesure"
AM_PENALTIES = ("<b>Conditions de paiement</b> : 30 jours date de facture, par virement. Pas d'escompte "
                "pour paiement anticipé. <b>En cas de retard de paiement</b>, des pénalités de retard "
                "sont exigibles de plein droit, sans rappel, dès le lendemain de la date d'échéance, "
                "au taux annuel de <b>12 %</b> (art. 7 de nos CGV), ainsi qu'une <b>indemnité "
                "forfaitaire pour frais de recouvrement de 40 €</b> (C. com. art. L441-10 et D441-5). ")

AM_INVOICES = [
    {"number": "F2025-087", "vat": "20", "ref": "Devis D-2025-112 · commande BC-2025-031",
     "object": "Aménagement de l'hôtel Maison Vercors — phase 1 : accueil",
     "lines": [("Comptoir d'accueil en chêne massif huilé, 280 × 110 cm, plateau Corian, "
                "fabrication atelier, livraison et pose le 13/11/2025", "1", "3200.00")]},
    {"number": "F2025-094", "vat": "20", "ref": "Devis D-2025-112 · commande BC-2025-031",
     "object": "Aménagement de l'hôtel Maison Vercors — phase 2 : chambres",
     "lines": [("Tête de lit chêne massif 160 cm, chevets suspendus intégrés", "12", "385.00"),
               ("Livraison, pose et fixation murale (12 chambres), forfait", "1", "830.00")]},
    {"number": "F2026-006", "vat": "20", "ref": "Devis D-2025-112 · commande BC-2025-031",
     "object": "Aménagement de l'hôtel Maison Vercors — phase 3 : salon",
     "lines": [("Bibliothèque murale chêne, 240 × 220 cm", "3", "475.00"),
               ("Livraison et pose, forfait", "1", "450.00")]},
]
AM_CREDIT = {"number": "AV2026-001", "vat": "20",
             "ref": "Geste commercial convenu par téléphone le 27/01/2026",
             "object": "Avoir sur facture F2026-006",
             "lines": [("Remise : bibliothèque n° 2 livrée avec une différence de teinte, "
                        "conservée par le client", "1", "200.00")]}

AM_DEVIS_LINES = [
    ("Phase 1 — Comptoir d'accueil en chêne massif huilé, 280 × 110 cm, plateau Corian", "1", "3200.00"),
    ("Phase 2 — Tête de lit chêne massif 160 cm avec chevets suspendus", "12", "385.00"),
    ("Phase 2 — Livraison, pose et fixation murale (12 chambres), forfait", "1", "830.00"),
    ("Phase 3 — Bibliothèque murale chêne, 240 × 220 cm", "3", "475.00"),
    ("Phase 3 — Livraison et pose, forfait", "1", "450.00"),
]


def make_atelier_martin(out: Out) -> None:
    ctx = load("atelier-martin")
    cr, dr = ctx.cr, ctx.dr
    rep = dr["representative"]
    for spec in AM_INVOICES:
        invoice_doc(out, ctx, spec, activity=AM_ACTIVITY, penalty_mention=AM_PENALTIES)
    invoice_doc(out, ctx, AM_CREDIT, activity=AM_ACTIVITY, kind="AVOIR",
                penalty_mention="Avoir à imputer sur le solde de la facture F2026-006. ")

    # signed quote
    table, ht, vat, ttc = lines_table(AM_DEVIS_LINES, "20")
    assert ht == sum(D(i["amount_excl_tax"]) for i in ctx.case["invoices"]), ht
    html = f"""
    <div class=head>{seller_block(cr, AM_ACTIVITY)}{buyer_block(dr)}</div>
    <h1 style="margin-top:8mm">DEVIS N° D-2025-112</h1>
    <div>Date : <b>06/10/2025</b> · Validité : 1 mois<br>
    Objet : <i>Aménagement sur mesure de l'hôtel Maison Vercors (accueil, 12 chambres, salon)</i></div>
    {table}
    {totals_table(ht, vat, "20", ttc, "Total TTC")}
    <div class="box small"><b>Calendrier et facturation</b> : fabrication et pose en trois phases —
    accueil (novembre 2025), chambres (décembre 2025), salon (janvier 2026). Chaque phase est
    facturée à sa livraison, payable à 30 jours date de facture par virement. Pénalités de retard
    au taux annuel de 12 % et indemnité forfaitaire de 40 € pour frais de recouvrement (art. 7 des
    CGV jointes, C. com. L441-10 et D441-5).</div>
    <div class=sigblock>
      <div class=small>Pour {esc(party_name(cr))}<br>{esc(cr['signatory']['name'])}, {esc(cr['signatory']['title'])}<br>
        {signature_svg('claire-martin')}</div>
      <div class=small><b>Bon pour accord</b>, devis reçu et accepté avec les CGV jointes.<br>
        Grenoble, le 10/10/2025<br>{esc(rep['name'])}, {esc(rep['title'])}<br>
        {signature_svg('julien-roche')}<br>
        <span class=stamp>MAISON VERCORS SAS<br>5 place Grenette — 38000 Grenoble<br>SIREN {dr['siren']}</span></div>
    </div>
    <div class=legal>Devis gratuit. Les prix s'entendent hors taxes, TVA 20 % en sus. CGV de la
    société Atelier Martin, version du 1er janvier 2025, annexées au présent devis.</div>
    """
    write_pdf(out, ctx, "pieces/devis-D-2025-112-signe.pdf", html,
              title="Devis D-2025-112 signé", when=at(date(2025, 10, 10), 16, 45))

    # scanned purchase order from the client
    bc_rows = "".join(
        f"<tr><td>{esc(d)}</td><td class=n>{num(q)}</td><td class=n>{eur(u)}</td>"
        f"<td class=n>{eur(r2(D(q) * D(u)))}</td></tr>" for d, q, u in AM_DEVIS_LINES)
    html = f"""
    <div class=head><div class=seller><div class=name>MAISON VERCORS</div>
      <div class=muted>Hôtel · Restaurant</div>
      <div>5 place Grenette<br>38000 Grenoble</div>
      <div class=small>SAS au capital de 50 000 € · RCS Grenoble {dr['siren']}<br>TVA {dr['vat_number']}</div></div>
      <div class=buyer><div class="small muted">Fournisseur</div>{esc(party_name(cr))}<br>
      {'<br>'.join(esc(x) for x in addr_lines(cr))}</div></div>
    <h1 style="margin-top:10mm">BON DE COMMANDE N° BC-2025-031</h1>
    <div>Date : 10/10/2025 · Référence fournisseur : devis D-2025-112 du 06/10/2025<br>
    Lieu de livraison : Hôtel Maison Vercors, 5 place Grenette, 38000 Grenoble</div>
    <table class=lines><tr><th>Désignation</th><th class=n>Qté</th><th class=n>PU HT</th><th class=n>Total HT</th></tr>
    {bc_rows}</table>
    {totals_table(ht, vat, "20", ttc, "Total TTC")}
    <div class=box>Conditions : selon devis D-2025-112 et CGV du fournisseur. Facturation par
    phase à la livraison, règlement à 30 jours date de facture.</div>
    <div class=sigblock><div></div><div>Grenoble, le 10/10/2025<br>Le Président, Julien Roche<br>
      {signature_svg('julien-roche-bc', 210, 66)}<br>
      <span class=stamp>MAISON VERCORS SAS<br>5 place Grenette — 38000 Grenoble<br>SIREN {dr['siren']}</span></div></div>
    """
    img = scan(html, seed="am-bc", angle=0.9, css="body{font-family:'Liberation Sans',sans-serif;font-size:10pt}")
    write_jpeg(out, ctx.root / "pieces/bon-de-commande-BC-2025-031.jpg", img)

    # terms of sale
    articles = [
        ("Objet", "Les présentes conditions générales de vente (CGV) s'appliquent à toutes les "
         "prestations de fabrication et de pose de mobilier et d'agencement réalisées par la société "
         "Atelier Martin pour des clients professionnels. Toute commande emporte leur acceptation."),
        ("Devis et commande", "Nos devis sont valables un mois. La commande est ferme à réception "
         "du devis signé portant la mention « bon pour accord » ou d'un bon de commande y faisant "
         "référence."),
        ("Délais", "Les délais de fabrication et de pose sont indiqués à titre indicatif sur le "
         "devis. Un retard ne peut donner lieu à annulation ou à indemnité que s'il excède trente "
         "jours après mise en demeure restée sans effet."),
        ("Livraison et réception", "Les ouvrages sont livrés et posés à l'adresse indiquée par le "
         "client. Un bon de livraison est signé à la pose ; les réserves doivent y être portées. "
         "À défaut, les ouvrages sont réputés conformes."),
        ("Prix", "Nos prix sont exprimés en euros hors taxes ; la TVA au taux en vigueur s'y ajoute."),
        ("Facturation et paiement", "Les prestations sont facturées à la livraison de chaque phase. "
         "Les factures sont payables à trente (30) jours date de facture, par virement. Aucun "
         "escompte n'est accordé pour paiement anticipé."),
        ("Retard de paiement", "Tout retard de paiement entraîne de plein droit, sans rappel, dès "
         "le lendemain de la date d'échéance, l'application de pénalités de retard calculées au "
         "taux annuel de <b>douze pour cent (12 %)</b> sur le montant TTC restant dû, ainsi que "
         "l'exigibilité d'une <b>indemnité forfaitaire pour frais de recouvrement de quarante "
         "euros (40 €)</b> par facture (C. com. art. L441-10 et D441-5), sans préjudice d'une "
         "indemnisation complémentaire sur justificatifs."),
        ("Réserve de propriété", "Les ouvrages restent la propriété d'Atelier Martin jusqu'au "
         "paiement intégral du prix (C. civ. art. 2367)."),
        ("Garantie", "Nos ouvrages sont garantis contre tout défaut de fabrication pendant un an à "
         "compter de la livraison."),
        ("Litiges", "Les présentes CGV sont soumises au droit français. À défaut d'accord amiable, "
         "tout litige relève des juridictions compétentes selon les règles de droit commun."),
    ]
    body = "".join(f"<h2>Article {i} — {t}</h2><p>{x}</p>" for i, (t, x) in enumerate(articles, 1))
    html = f"""<div class=head>{seller_block(cr, AM_ACTIVITY)}<div></div></div>
    <h1 style="margin-top:6mm">CONDITIONS GÉNÉRALES DE VENTE</h1>
    <div class=muted>Version du 1er janvier 2025</div><div class=letter>{body}</div>"""
    write_pdf(out, ctx, "pieces/cgv-atelier-martin.pdf", html,
              title="Conditions générales de vente Atelier Martin", when=at(date(2025, 1, 1), 9, 0))

    # delivery note, signed on delivery
    html = f"""
    <div class=head>{seller_block(cr, AM_ACTIVITY)}{buyer_block(dr, "Livré à")}</div>
    <h1 style="margin-top:8mm">BON DE LIVRAISON N° BL-2025-041</h1>
    <div>Date de livraison et pose : <b>13/11/2025</b><br>Commande BC-2025-031 · devis D-2025-112 (phase 1)</div>
    <table class=lines><tr><th>Désignation</th><th class=n>Quantité</th><th>État</th></tr>
      <tr><td>Comptoir d'accueil en chêne massif huilé, 280 × 110 cm, plateau Corian</td><td class=n>1</td><td>posé</td></tr>
      <tr><td>Habillage latéral et plinthes assorties</td><td class=n>1 lot</td><td>posé</td></tr></table>
    <div class=box>Réserves : <i>néant</i></div>
    <div class=sigblock>
      <div class=small>Le livreur / poseur<br>Thomas Girard, Atelier Martin<br>{signature_svg('thomas-girard', 160, 50)}</div>
      <div class=small><b>Reçu conforme</b>, le 13/11/2025 à 17 h 10<br>Pour Maison Vercors : Élodie Blanc, responsable d'exploitation<br>
        {signature_svg('elodie-blanc', 170, 54)}</div></div>
    """
    write_pdf(out, ctx, "pieces/BL-2025-041.pdf", html, title="Bon de livraison BL-2025-041",
              when=at(date(2025, 11, 13), 17, 10))

    # first reminder, by e-mail, with the first invoice attached
    notice = next(n for n in ctx.case["notices"] if n["stage"] == "relance-1")
    sent = at(notice["date"], 9, 12)
    body = f"""Bonjour Monsieur Roche,

Sauf erreur ou omission de notre part, les factures suivantes restent impayées à ce jour :

  - F2025-087 du 14/11/2025, échue le 14/12/2025 : 3 840,00 EUR TTC
  - F2025-094 du 05/12/2025, échue le 04/01/2026 : 6 540,00 EUR TTC

soit un total de 10 380,00 EUR TTC.

Il s'agit peut-être d'un simple oubli : nous vous remercions de bien vouloir procéder
au règlement par virement (IBAN FR76 3000 6000 0112 3456 7890 189, BIC AGRIFRPP) en
rappelant les numéros de facture, ou en ligne : {cr['payment_link']}

Vous trouverez ci-joint une copie de la facture F2025-087. Si votre règlement a été
émis entre-temps, merci de ne pas tenir compte de ce message.

Nous vous rappelons que, conformément à nos conditions générales de vente (art. 7),
tout retard de paiement entraîne des pénalités au taux annuel de 12 % et une indemnité
forfaitaire de 40 EUR par facture pour frais de recouvrement.

Bien cordialement,

Claire Martin
Gérante — Atelier Martin SARL
12 rue de la Paix, 69002 Lyon · {cr['phone']}
"""
    write_eml(out, ctx.root / "pieces/relance-1.eml",
              sender=f"Atelier Martin - Comptabilité <{cr['email']}>",
              to=f"Maison Vercors - Comptabilité <{dr['email']}>", cc=None, when=sent,
              subject="Relance : factures F2025-087 et F2025-094 impayées",
              msgid="<20260106091200.relance-1.AM-2026-003@atelier-martin.example>",
              body=body, attachments=[("F2025-087.pdf", out.files[ctx.root / "pieces/F2025-087.pdf"])])


# ----- case 2: studio-graphique ------------------------------------------------------------

SG_ACTIVITY = "Studio de design graphique — identité visuelle, packaging"
SG_PENALTIES = ("<b>Conditions de paiement</b> : 30 jours date de facture, par virement (contrat "
                "CP-2025-07, art. 5). Pas d'escompte pour paiement anticipé. <b>En cas de retard de "
                "paiement</b>, pénalités exigibles de plein droit dès le lendemain de l'échéance au "
                "taux appliqué par la Banque centrale européenne à son opération de refinancement la "
                "plus récente, majoré de 10 points, et <b>indemnité forfaitaire pour frais de "
                "recouvrement de 40 €</b> (C. com. art. L441-10 et D441-5). ")

SG_INVOICES = [
    {"number": "F2025-031", "vat": "20", "ref": "Contrat CP-2025-07 du 03/03/2025 — phase 1",
     "object": "Création de l'identité visuelle de la Cave Saint-Pierre",
     "lines": [("Logotype et charte graphique (3 pistes, 2 allers-retours, fichiers sources)", "1", "3200.00"),
               ("Déclinaisons : papeterie, cartes, signalétique boutique", "1", "1300.00")]},
    {"number": "F2025-048", "vat": "20", "ref": "Contrat CP-2025-07 du 03/03/2025 — phase 2",
     "object": "Adaptation des étiquettes — millésime 2024",
     "lines": [("Adaptation d'étiquette et contre-étiquette par cuvée, BAT imprimeur", "5", "250.00")]},
]


def med_statement_sg() -> tuple[str, Decimal]:
    """The décompte printed in the mise en demeure, arrêté au 15/09/2025 (see README)."""
    rows = [
        ("F2025-031", "5 400,00 €", "21/05/2025 → 30/06/2025", 41, "13,15 %", "79.76"),
        ("", "", "01/07/2025 → 15/09/2025", 77, "12,15 %", "138.41"),
        ("F2025-048", "1 500,00 €", "01/08/2025 → 15/09/2025", 46, "12,15 %", "22.97"),
    ]
    total = sum(D(r[5]) for r in rows)
    body = "".join(f"<tr><td>{a}</td><td class=n>{b}</td><td>{c}</td><td class=n>{d}</td>"
                   f"<td class=n>{e}</td><td class=n>{eur(f)}</td></tr>" for a, b, c, d, e, f in rows)
    return ("<table class=lines><tr><th>Facture</th><th class=n>Base TTC</th><th>Période</th>"
            "<th class=n>Jours</th><th class=n>Taux</th><th class=n>Pénalités</th></tr>"
            + body + "</table>"), total


def make_studio_graphique(out: Out) -> None:
    ctx = load("studio-graphique")
    cr, dr = ctx.cr, ctx.dr
    for spec in SG_INVOICES:
        invoice_doc(out, ctx, spec, activity=SG_ACTIVITY, penalty_mention=SG_PENALTIES)

    # service contract
    articles = [
        ("Objet", "Le Prestataire conçoit pour le Client l'identité visuelle de la Cave "
         "Saint-Pierre (logotype, charte graphique, déclinaisons) puis adapte les étiquettes de ses "
         "cuvées, dans les conditions du présent contrat et de son annexe (cahier des charges)."),
        ("Phases et livrables", "Phase 1 — identité visuelle : trois pistes créatives, deux "
         "allers-retours, fichiers sources et charte au format PDF ; livraison prévue en avril 2025. "
         "Phase 2 — étiquettes : adaptation de l'étiquette et de la contre-étiquette de cinq cuvées "
         "du millésime 2024 ; livraison prévue en juin 2025."),
        ("Prix", "Phase 1 : 4 500,00 € HT (logotype et charte 3 200,00 € ; déclinaisons "
         "1 300,00 €). Phase 2 : 250,00 € HT par cuvée, soit 1 250,00 € HT pour cinq cuvées. TVA au "
         "taux de 20 % en sus."),
        ("Validation", "Chaque livrable est réputé validé à la signature du bon à tirer (BAT) ou, à "
         "défaut de réserve écrite, huit jours après sa livraison."),
        ("Facturation et paiement", "Chaque phase est facturée à sa validation. Les factures sont "
         "payables à trente (30) jours date de facture, par virement sur le compte du Prestataire. "
         "Aucun escompte pour paiement anticipé."),
        ("Retard de paiement", "Conformément à l'article L441-10 du Code de commerce, toute somme non "
         "payée à l'échéance porte de plein droit, dès le lendemain, des pénalités de retard au "
         "taux appliqué par la Banque centrale européenne à son opération de refinancement la plus "
         "récente, majoré de dix points, et donne lieu à une indemnité forfaitaire pour frais de "
         "recouvrement de quarante euros (40 €) par facture (article D441-5)."),
        ("Propriété intellectuelle", "Les droits patrimoniaux d'auteur sur les créations retenues "
         "(reproduction, représentation, adaptation, pour tous supports, pour le monde entier et "
         "pour la durée légale) sont cédés au Client à compter du paiement intégral du prix."),
        ("Durée", "Le contrat prend effet à sa signature et prend fin à la livraison de la phase 2 "
         "et au paiement complet des factures."),
        ("Droit applicable", "Le présent contrat est soumis au droit français."),
    ]
    body = "".join(f"<h2>Article {i} — {t}</h2><p>{x}</p>" for i, (t, x) in enumerate(articles, 1))
    rep = dr["representative"]
    html = f"""
    <h1>CONTRAT DE PRESTATION DE SERVICES GRAPHIQUES</h1><div class=muted>N° CP-2025-07</div>
    <div class=letter><p style="margin-top:5mm"><b>Entre</b> {esc(party_name(cr))}, au capital de
    {eur(cr['capital'])}, immatriculée au RCS de {cr['rcs_city']} sous le n° {cr['siren']}, dont le
    siège est {esc(', '.join(addr_lines(cr)))}, représentée par {cr['signatory']['name']}, gérante,
    ci-après « le Prestataire »,</p>
    <p><b>et</b> {esc(party_name(dr))}, au capital de {eur(dr['capital'])}, immatriculée au RCS de
    {dr['rcs_city']} sous le n° {dr['siren']}, dont le siège est {esc(', '.join(addr_lines(dr)))},
    représentée par {rep['name']}, président, ci-après « le Client ».</p>
    <p>Il a été convenu ce qui suit.</p>{body}
    <p style="margin-top:5mm">Fait à Bordeaux, en deux exemplaires, le 3 mars 2025.</p></div>
    <div class=sigblock>
      <div class=small>Le Prestataire<br>{cr['signatory']['name']}, gérante<br>{signature_svg('lea-fontaine')}</div>
      <div class=small>Le Client<br>{rep['name']}, président<br>{signature_svg('antoine-mercier')}</div></div>
    """
    write_pdf(out, ctx, "pieces/contrat-CP-2025-07.pdf", html,
              title="Contrat de prestation de services graphiques CP-2025-07",
              when=at(date(2025, 3, 3), 11, 0))

    # reminders by e-mail
    iban = " ".join(cr["bank"]["iban"][i:i + 4] for i in range(0, len(cr["bank"]["iban"]), 4))
    sign = f"""Léa Fontaine
Gérante — Studio Graphique Onde SARL
14 rue du Parlement Saint-Pierre, 33000 Bordeaux · {cr['phone']}
"""
    r1 = f"""Bonjour Monsieur Mercier,

Sauf erreur de notre part, la facture F2025-031 du 20/04/2025 (identité visuelle),
d'un montant de 5 400,00 EUR TTC, arrivée à échéance le 20/05/2025, n'a pas encore été
réglée.

Nous vous remercions de bien vouloir procéder à son règlement par virement
(IBAN {iban}, BIC {cr['bank']['bic']}) ou en ligne : {cr['payment_link']}

Si votre paiement a été émis entre-temps, merci de ne pas tenir compte de ce message.

Bien cordialement,

{sign}"""
    write_eml(out, ctx.root / "pieces/relance-1.eml",
              sender=f"Studio Graphique Onde <{cr['email']}>",
              to=f"Cave Saint-Pierre - Comptabilité <{dr['email']}>", cc=None,
              when=at(date(2025, 5, 21), 10, 4), subject="Facture F2025-031 — rappel d'échéance",
              msgid="<20250521100400.relance-1.SGO-2025-014@studio-onde.example>", body=r1,
              attachments=[("F2025-031.pdf", out.files[ctx.root / "pieces/F2025-031.pdf"])])
    r2_ = f"""Monsieur Mercier,

Malgré notre message du 21/05/2025, la facture F2025-031 (5 400,00 EUR TTC, échue le
20/05/2025) reste impayée à ce jour.

Nous vous demandons de procéder à son règlement sous huit jours. À défaut, nous serons
contraints d'appliquer les pénalités de retard prévues à l'article 6 du contrat
CP-2025-07 (taux BCE majoré de 10 points, soit 13,15 % l'an pour le premier semestre
2025) ainsi que l'indemnité forfaitaire de 40 EUR pour frais de recouvrement
(C. com. art. L441-10 et D441-5).

Je reste joignable au {cr['phone']} si un point de la prestation pose question.

Cordialement,

{sign}"""
    write_eml(out, ctx.root / "pieces/relance-2.eml",
              sender=f"Studio Graphique Onde <{cr['email']}>",
              to=f"Antoine Mercier <antoine.mercier@cave-saint-pierre.example>",
              cc=f"Cave Saint-Pierre - Comptabilité <{dr['email']}>",
              when=at(date(2025, 6, 2), 14, 37),
              subject="2e relance — facture F2025-031 impayée (échue le 20/05/2025)",
              msgid="<20250602143700.relance-2.SGO-2025-014@studio-onde.example>", body=r2_)

    # mise en demeure (the letter as sent)
    med = next(n for n in ctx.case["notices"] if n["stage"] == "mise-en-demeure")
    table, pen = med_statement_sg()
    principal = sum(D(i["amount_incl_tax"]) for i in ctx.case["invoices"])
    indem = D("40.00") * len(ctx.case["invoices"])
    total = principal + pen + indem
    assert (pen, total) == (D("241.14"), D("7221.14")), (pen, total)
    html = f"""<div class=letter>
    <div class=small>{esc(party_name(cr))}<br>{'<br>'.join(esc(x) for x in addr_lines(cr))}<br>
    SIREN {cr['siren']} · {esc(cr['email'])} · {esc(cr['phone'])}</div>
    <div class=addr-to>{esc(party_name(dr))}<br>À l'attention de M. {esc(rep['name'])}, Président<br>
    {'<br>'.join(esc(x) for x in addr_lines(dr))}</div>
    <p><b>Lettre recommandée avec accusé de réception n° {esc(med['lrar_number'])}</b><br>
    Copie par courriel à {esc(dr['email'])}</p>
    <p style="text-align:right">Bordeaux, le {d_long(med['date'])}</p>
    <p><b>Objet : MISE EN DEMEURE DE PAYER — factures F2025-031 et F2025-048</b></p>
    <p>Monsieur le Président,</p>
    <p>En exécution du contrat de prestation de services graphiques n° CP-2025-07 signé le 3 mars
    2025, notre société vous a livré l'identité visuelle de la Cave Saint-Pierre puis l'adaptation
    des étiquettes de cinq cuvées, qui ont été facturées comme suit :</p>
    <table class=lines><tr><th>Facture</th><th>Date</th><th>Échéance</th><th class=n>Montant TTC</th><th class=n>Payé</th></tr>
    <tr><td>F2025-031</td><td>20/04/2025</td><td>20/05/2025</td><td class=n>5 400,00 €</td><td class=n>0,00 €</td></tr>
    <tr><td>F2025-048</td><td>01/07/2025</td><td>31/07/2025</td><td class=n>1 500,00 €</td><td class=n>0,00 €</td></tr></table>
    <p style="margin-top:3mm">Malgré nos relances des 21 mai et 2 juin 2025, ces factures demeurent
    impayées. En application de l'article 6 du contrat et de l'article L441-10 du Code de commerce,
    elles portent de plein droit, depuis le lendemain de leur échéance, des pénalités de retard au
    taux BCE majoré de 10 points (13,15 % l'an au premier semestre 2025, 12,15 % au second), soit à
    ce jour :</p>
    {table}
    {f'''<table class=totals><tr><td>Principal</td><td class=n>{eur(principal)}</td></tr>
    <tr><td>Pénalités de retard arrêtées au 15/09/2025</td><td class=n>{eur(pen)}</td></tr>
    <tr><td>Indemnités forfaitaires (2 × 40 €, art. D441-5)</td><td class=n>{eur(indem)}</td></tr>
    <tr class=grand><td>Total dû au 15/09/2025</td><td class=n>{eur(total)}</td></tr></table>'''}
    <p style="margin-top:3mm">En conséquence, nous vous <b>mettons en demeure</b> de nous régler la somme
    de <b>{eur(total)}</b> dans un délai de <b>huit jours</b> à compter de la réception de la présente,
    par virement (IBAN {esc(iban)}, BIC {esc(cr['bank']['bic'])}) ou en ligne
    ({esc(cr['payment_link'])}). Les pénalités continuent de courir jusqu'au complet paiement.</p>
    <p>À défaut de règlement dans ce délai, nous saisirons sans autre avis le président du tribunal
    de commerce de Libourne d'une requête en injonction de payer, les frais de procédure restant à
    votre charge.</p>
    <p>Nous vous prions d'agréer, Monsieur le Président, l'expression de nos salutations distinguées.</p>
    <div class=sigblock><div></div><div>{cr['signatory']['name']}, gérante<br>{signature_svg('lea-fontaine')}</div></div>
    </div>"""
    write_pdf(out, ctx, "pieces/mise-en-demeure.pdf", html,
              title="Mise en demeure — factures F2025-031 et F2025-048", when=at(med["date"], 11, 20))

    # avis de réception (scan of the pink card, as a greyscale PNG)
    bars = random.Random("ar-bars")
    x = 0.0
    rects = []
    while x < 300:
        wdt = bars.choice((1.2, 1.2, 2.4, 3.6))
        rects.append(f'<rect x="{x:.1f}" y="0" width="{wdt}" height="40" fill="#000"/>')
        x += wdt + bars.choice((1.2, 2.4, 2.4, 3.6))
    barcode = f'<svg width="300" height="40" xmlns="http://www.w3.org/2000/svg">{"".join(rects)}</svg>'
    css = """@page { size: 160mm 110mm; margin: 6mm; @bottom-center { content: none } }
    body { font-family: 'Liberation Sans', sans-serif; font-size: 8.5pt; }
    .card { border: 1.2pt solid #000; padding: 3mm; height: 92mm; }
    .row { display: flex; justify-content: space-between; }
    .cell { border: 0.6pt solid #000; padding: 1.5mm; margin-top: 2mm; }
    .hand { font-family: 'Liberation Serif', serif; font-style: italic; font-size: 12pt; color: #1a2a6c; }"""
    html = f"""<div class=card>
      <div class=row><div><b style="font-size:13pt">AVIS DE RÉCEPTION</b><br>Lettre recommandée — envoi national</div>
        <div style="text-align:right">{barcode}<br><b>{esc(med['lrar_number'])}</b></div></div>
      <div class=row>
        <div class=cell style="width:46%">Présentée / avisée le : <span class=hand>16/09/2025</span><br><br>
          <b>Distribuée le : <span class=hand>17/09/2025</span></b><br><br>
          Signature du destinataire ou de son mandataire :<br>{signature_svg('antoine-mercier-ar', 150, 44)}<br>
          Nom : <span class=hand>A. MERCIER</span></div>
        <div class=cell style="width:46%">Adresse du destinataire :<br><b>{esc(party_name(dr))}</b><br>
          {'<br>'.join(esc(x) for x in addr_lines(dr))}<br><br>
          À renvoyer à l'expéditeur :<br><b>{esc(party_name(cr))}</b><br>{'<br>'.join(esc(x) for x in addr_lines(cr))}</div></div>
      <div class=small style="margin-top:2mm">Timbre à date du bureau distributeur : <span class=stamp>33330 ST-ÉMILION<br>17-09-2025</span></div>
    </div>"""
    img = scan(html, seed="sg-ar", angle=-1.3, css=css)
    write_png(out, ctx.root / "pieces/avis-de-reception-1A20843155273.png", img)


# ----- case 3: consumer-renovation -----------------------------------------------------------

CR_ACTIVITY = "Plomberie · carrelage · rénovation de salles de bains"
CR_LEGAL = ("Assurance responsabilité civile décennale : Mutuelle des Artisans du Sud (assureur "
            "fictif), contrat n° DEC-2025-55871, couverture France métropolitaine. Médiateur de la "
            "consommation : Médiation Bâtiment Provence (fictif), 10 cours Mirabeau, 13100 "
            "Aix-en-Provence. TVA au taux réduit de 10 % (travaux d'amélioration dans un logement "
            "achevé depuis plus de deux ans, attestation signée par la cliente). ")
CR_LINES = [
    ("Dépose de l'ancienne salle de bains, évacuation des gravats en déchetterie", "1", "650.00"),
    ("Plomberie : alimentations PER et évacuations PVC, raccordements", "1", "1450.00"),
    ("Receveur extra-plat 120 × 90 cm et paroi de douche en verre 8 mm", "1", "1180.00"),
    ("Carrelage sol et murs, grès cérame 60 × 60 (fourniture et pose), m²", "18", "75.00"),
    ("Meuble vasque 80 cm, mitigeurs thermostatique et lavabo", "1", "870.00"),
    ("Électricité salle d'eau (NF C 15-100) : éclairage, prise rasoir, liaisons équipotentielles", "1", "300.00"),
]


def make_consumer_renovation(out: Out) -> None:
    ctx = load("consumer-renovation")
    cr, dr = ctx.cr, ctx.dr
    inv = ctx.invoice("F2025-098")

    invoice_doc(out, ctx, {"number": "F2025-098", "vat": "10", "lines": CR_LINES,
                           "ref": "Devis DV-2025-041 accepté le 12/09/2025 · réception le 23/10/2025",
                           "object": "Rénovation de la salle de bains — 14 chemin des Oliviers, Éguilles"},
                activity=CR_ACTIVITY,
                penalty_mention="<b>Paiement</b> à 15 jours date de facture, par virement ou chèque à "
                "l'ordre de Marc Durand. Pas d'escompte pour paiement anticipé. ",
                extra_legal=CR_LEGAL)

    table, ht, vat, ttc = lines_table(CR_LINES, "10")
    html = f"""
    <div class=head>{seller_block(cr, CR_ACTIVITY)}{buyer_block(dr)}</div>
    <h1 style="margin-top:8mm">DEVIS N° DV-2025-041</h1>
    <div>Date : <b>08/09/2025</b> · Validité : 2 mois · Visite technique du 04/09/2025<br>
    Chantier : 14 chemin des Oliviers, 13510 Éguilles — salle de bains de l'étage (6,5 m²)<br>
    Durée estimée : 2 semaines · Début des travaux prévu : 6 octobre 2025</div>
    {table}
    {totals_table(ht, vat, "10", ttc, "Total TTC")}
    <div class="box small"><b>Conditions</b> : aucun acompte. Facture à la réception des travaux,
    payable à 15 jours par virement ou chèque. Devis établi à l'entreprise après visite ; la
    cliente reconnaît avoir reçu les informations précontractuelles (C. consom. L111-1).</div>
    <div class=sigblock>
      <div class=small>L'entreprise<br>{cr['signatory']['name']}, {cr['signatory']['title']}<br>{signature_svg('marc-durand')}</div>
      <div class=small>La cliente — mention manuscrite « <b>Bon pour accord</b> »<br>
        Éguilles, le 12/09/2025<br>Sophie Lefèvre<br>{signature_svg('sophie-lefevre')}</div></div>
    <div class=legal>{CR_LEGAL}</div>
    """
    write_pdf(out, ctx, "pieces/devis-DV-2025-041-signe.pdf", html,
              title="Devis DV-2025-041 signé", when=at(date(2025, 9, 12), 18, 5))

    # procès-verbal de réception des travaux (paper form, scanned)
    html = f"""
    <h1 style="text-align:center">PROCÈS-VERBAL DE RÉCEPTION DES TRAVAUX</h1>
    <div style="text-align:center" class=muted>(article 1792-6 du Code civil)</div>
    <div class=box style="margin-top:8mm"><b>Maître d'ouvrage</b> : Mme Sophie Lefèvre, 14 chemin des Oliviers, 13510 Éguilles<br>
    <b>Entreprise</b> : {esc(cr['name'])} (EI), {esc(', '.join(addr_lines(cr)))}, SIREN {cr['siren']}<br>
    <b>Marché</b> : devis DV-2025-041 du 08/09/2025 accepté le 12/09/2025 — rénovation de la salle de bains<br>
    <b>Montant des travaux</b> : {eur(ht)} HT, soit {eur(ttc)} TTC</div>
    <p style="margin-top:6mm">Après visite des travaux effectuée contradictoirement ce jour, le maître
    d'ouvrage déclare que la réception est prononcée :</p>
    <p style="font-size:12pt"><span style="display:inline-block;width:3.2mm;height:3.2mm;border:0.3mm solid #111;font:bold 8pt 'Liberation Sans',sans-serif;line-height:3.2mm;text-align:center;vertical-align:-0.4mm">X</span> <b>sans réserve</b> &nbsp;&nbsp;&nbsp; <span style="display:inline-block;width:3.2mm;height:3.2mm;border:0.3mm solid #111;font:bold 8pt 'Liberation Sans',sans-serif;line-height:3.2mm;text-align:center;vertical-align:-0.4mm"></span> avec les réserves ci-dessous &nbsp;&nbsp;&nbsp; <span style="display:inline-block;width:3.2mm;height:3.2mm;border:0.3mm solid #111;font:bold 8pt 'Liberation Sans',sans-serif;line-height:3.2mm;text-align:center;vertical-align:-0.4mm"></span> refusée</p>
    <div class=box style="height:22mm">Réserves : <i style="font-size:13pt;color:#1a2a6c">néant — travaux conformes, équipements essayés</i></div>
    <p style="margin-top:5mm">La réception fait courir les garanties de parfait achèvement (un an),
    de bon fonctionnement (deux ans) et décennale. Date d'effet de la réception : <b>23 octobre 2025</b>.</p>
    <p>Fait à Éguilles, le 23/10/2025, en deux exemplaires.</p>
    <div class=sigblock>
      <div>Le maître d'ouvrage<br>Sophie Lefèvre<br>{signature_svg('sophie-lefevre-pv', 200, 62)}</div>
      <div>L'entreprise<br>Marc Durand<br>{signature_svg('marc-durand-pv', 200, 62)}</div></div>
    """
    img = scan(html, seed="cr-pv", angle=-0.7, css="body{font-size:11pt}")
    write_jpeg(out, ctx.root / "pieces/pv-reception-travaux.jpg", img)

    # mise en demeure to a consumer: legal interest, no 40 EUR indemnity
    med = next(n for n in ctx.case["notices"] if n["stage"] == "mise-en-demeure")
    iban = " ".join(cr["bank"]["iban"][i:i + 4] for i in range(0, len(cr["bank"]["iban"]), 4))
    html = f"""<div class=letter>
    <div class=small>{esc(cr['name'])} — Entrepreneur individuel<br>{'<br>'.join(esc(x) for x in addr_lines(cr))}<br>
    SIREN {cr['siren']} · {esc(cr['email'])} · {esc(cr['phone'])}</div>
    <div class=addr-to>Madame Sophie Lefèvre<br>{'<br>'.join(esc(x) for x in addr_lines(dr))}</div>
    <p><b>Lettre recommandée avec accusé de réception n° {esc(med['lrar_number'])}</b></p>
    <p style="text-align:right">Aix-en-Provence, le {d_long(med['date'])}</p>
    <p><b>Objet : MISE EN DEMEURE DE PAYER — facture F2025-098 du 24 octobre 2025</b></p>
    <p>Madame,</p>
    <p>Selon le devis n° DV-2025-041 que vous avez accepté le 12 septembre 2025, j'ai réalisé la
    rénovation de la salle de bains de votre domicile. Les travaux ont été réceptionnés sans réserve
    le 23 octobre 2025, comme en atteste le procès-verbal de réception que vous avez signé.</p>
    <p>Ma facture n° F2025-098 du 24 octobre 2025, d'un montant de <b>{eur(inv['amount_incl_tax'])} TTC</b>,
    était payable au plus tard le {d_long(inv['due'])}. Malgré mon courriel de rappel du 12 novembre
    2025, elle reste entièrement impayée à ce jour.</p>
    <p>Par la présente, je vous <b>mets en demeure</b> de me régler la somme de
    <b>{eur(inv['amount_incl_tax'])}</b> dans un délai de <b>huit jours</b> à compter de la réception de
    cette lettre, par virement (IBAN {esc(iban)}, BIC {esc(cr['bank']['bic'])}) ou par chèque à l'ordre de
    Marc Durand.</p>
    <p>Conformément aux articles 1231-6 et 1344-1 du Code civil, la présente mise en demeure fait
    courir, à compter de sa réception, les intérêts au taux légal sur la somme due, jusqu'à complet
    paiement.</p>
    <p>À défaut de paiement dans ce délai, je saisirai la juridiction compétente d'une demande en
    paiement (requête en injonction de payer auprès du tribunal judiciaire d'Aix-en-Provence), ou
    un commissaire de justice dans le cadre de la procédure simplifiée de recouvrement des petites
    créances, les frais restant à votre charge dans les conditions prévues par la loi.</p>
    <p>Je reste disposé à examiner avec vous un échéancier de paiement si vous m'en faites la
    demande dans le même délai.</p>
    <p>Veuillez agréer, Madame, mes salutations distinguées.</p>
    <div class=sigblock><div></div><div>Marc Durand<br>{signature_svg('marc-durand')}</div></div>
    <div class=legal>Pièces jointes (copies) : devis DV-2025-041 signé ; procès-verbal de réception du
    23/10/2025 ; facture F2025-098.</div></div>"""
    write_pdf(out, ctx, "pieces/mise-en-demeure.pdf", html,
              title="Mise en demeure — facture F2025-098", when=at(med["date"], 17, 40))

    # the signed avis de réception of that LRAR (the pink card, scanned at its real size,
    # 148 x 105 mm, with a margin of the scanner's glass around it): notices[].receipt_file
    number, received = med["lrar_number"], med["received"]
    got = d_short(received)
    postmark = postmark_svg("EGUILLES", "BOUCHES-DU-RHÔNE", (received.strftime("%d-%m"), str(received.year)),
                            angle=-14)
    css = """@page { size: 160mm 117mm; margin: 0 }
    body { font-family: 'Liberation Sans', sans-serif; font-size: 8pt; line-height: 1.25; margin: 0; }
    .card { position: absolute; left: 5mm; top: 6mm; width: 148mm; height: 105mm; box-sizing: border-box;
            background: #f4d3db; border-radius: 1.5mm; padding: 4mm 4.5mm; }
    .hdr { display: flex; justify-content: space-between; align-items: flex-start; }
    .brand { font-size: 7pt; letter-spacing: 0.3pt; }
    .title { font-size: 16pt; font-weight: bold; letter-spacing: 0.6pt; margin-top: 0.6mm; }
    .sub { font-size: 7.4pt; margin-top: 0.8mm; }
    .num { text-align: center; }
    .num .lbl { font-size: 6.2pt; text-align: left; }
    .num b { font-size: 10.5pt; letter-spacing: 0.8pt; font-family: 'Liberation Mono', monospace; }
    .grid { display: flex; gap: 2.5mm; margin-top: 3mm; }
    .f { border: 0.5pt solid #000; background: #fbeef1; padding: 1.2mm 1.6mm; box-sizing: border-box; }
    .lbl { font-size: 6.4pt; text-transform: uppercase; letter-spacing: 0.2pt; }
    .hand { font-family: 'Liberation Serif', serif; font-style: italic; font-size: 12.5pt; color: #1a2a6c;
            display: inline-block; transform: rotate(-1.5deg); }
    .line { display: flex; align-items: baseline; gap: 1.5mm; margin: 0.6mm 0 1.2mm 0; }
    .cb { display: inline-block; width: 2.6mm; height: 2.6mm; border: 0.5pt solid #000; background: #fff;
          font: bold 7pt 'Liberation Sans', sans-serif; line-height: 2.6mm; text-align: center;
          vertical-align: -0.5mm; color: #1a2a6c; }
    .addr { font-size: 9.6pt; line-height: 1.3; margin-top: 0.5mm; }
    .sig svg { display: block; margin: -1mm 0 -1.5mm 6mm; }
    .stampzone { position: relative; height: 37mm; }
    .postmark { position: absolute; left: 6mm; top: 5mm; }
    .foot { font-size: 6.4pt; margin-top: 2mm; display: flex; justify-content: space-between; }
    """
    html = f"""<div class=card>
    <div class=hdr>
      <div><div class=brand>LA POSTE · COURRIER</div>
        <div class=title>AVIS DE RÉCEPTION</div>
        <div class=sub>{checkbox(True)} Lettre recommandée &nbsp; {checkbox(False)} Colis recommandé</div>
        <div class=sub>Niveau de garantie : &nbsp;{checkbox(True)} R1 &nbsp;{checkbox(False)} R2 &nbsp;{checkbox(False)} R3</div></div>
      <div class=num><div class=lbl>N° de l'envoi</div>{barcode_svg("ar:" + number, 52, 9)}<br><b>{esc(number)}</b></div>
    </div>
    <div class=grid>
      <div class=f style="width:88mm">
        <div class=line><span class=lbl>Présenté / Avisé le :</span> <span class=hand>{got}</span></div>
        <div class=line><span class=lbl><b>Distribué le :</b></span> <span class=hand>{got}</span></div>
        <div style="font-size:7.4pt; margin: 0.4mm 0 1.6mm 0">{checkbox(True)} au destinataire &nbsp;
          {checkbox(False)} à son mandataire &nbsp; (pièce d'identité vérifiée)</div>
        <div class=lbl>Signature du destinataire ou de son mandataire :</div>
        <div class=sig>{signature_svg('sophie-lefevre')}</div>
        <div class=line><span class=lbl>Nom du signataire (en capitales) :</span> <span class=hand>S. LEFÈVRE</span></div>
      </div>
      <div class=f style="width:48.5mm">
        <div class=lbl>Timbre à date du bureau distributeur</div>
        <div class=stampzone>{postmark}</div>
      </div>
    </div>
    <div class=grid>
      <div class=f style="width:68mm"><div class=lbl>Adresse du destinataire</div>
        <div class=addr>Madame Sophie Lefèvre<br>{'<br>'.join(esc(x) for x in addr_lines(dr))}</div></div>
      <div class=f style="width:68.5mm"><div class=lbl><b>À retourner à</b> (expéditeur)</div>
        <div class=addr><b>{esc(cr['name'])}</b><br>{'<br>'.join(esc(x) for x in addr_lines(cr))}</div></div>
    </div>
    <div class=foot><span>À remplir par l'agent distributeur au moment de la distribution · à renvoyer à
      l'expéditeur par le premier courrier.</span><span>Document fictif</span></div>
    </div>"""
    img = scan(html, seed="cr-ar", angle=0.9, css=css)
    write_jpeg(out, ctx.root / "pieces/avis-de-reception-mise-en-demeure.jpg", img)


# --------------------------------------------------------------------------- main


def referenced_files(ctx: Ctx) -> set[Path]:
    files = set()
    for key in ("invoices", "credit_notes", "exhibits", "notices"):
        for rec in ctx.case.get(key) or ():
            for field in ("file", "receipt_file"):
                if rec.get(field):
                    files.add(ctx.root / rec[field])
    return files


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="rebuild in memory and compare with the files on disk")
    args = ap.parse_args(argv)
    out = Out(check=args.check)
    make_atelier_martin(out)
    make_studio_graphique(out)
    make_consumer_renovation(out)

    problems = []
    for name in ("atelier-martin", "studio-graphique", "consumer-renovation"):
        ctx = load(name)
        refs = referenced_files(ctx)
        made = {p for p in out.files if p.is_relative_to(ctx.root)}
        problems += [f"{p.relative_to(HERE)}: named in case.yaml, not generated" for p in refs - made]
        problems += [f"{p.relative_to(HERE)}: generated, not named in case.yaml" for p in made - refs]
    total = 0
    for path, data in sorted(out.files.items()):
        total += len(data)
        if len(data) > 200_000:
            problems.append(f"{path.relative_to(HERE)}: {len(data)} bytes (> 200 KB)")
        if args.check and (not path.exists() or path.read_bytes() != data):
            problems.append(f"{path.relative_to(HERE)}: differs from a fresh build")
        print(f"{len(data):>8}  {hashlib.sha256(data).hexdigest()[:16]}  {path.relative_to(HERE)}")
    print(f"{total:>8}  total, {len(out.files)} files")
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
