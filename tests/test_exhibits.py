"""Evidence files to pages: formats, scans, emails, refusals (dossier.bundle.exhibits)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
from dossier.bundle.exhibits import (  # noqa: E402
    ExhibitSpec,
    ImagePolicy,
    _french_date,
    html_to_text,
    image_data,
    load_exhibit,
    sniff,
)
from dossier.errors import EvidenceError  # noqa: E402

import make_awkward  # noqa: E402


def spec(path: Path, **kw) -> ExhibitSpec:
    return ExhibitSpec("autre", path.name, path, "exhibits[3].file", **kw)


@pytest.mark.parametrize("data, name, kind", [
    (b"%PDF-1.7\n", "x.bin", "pdf"),
    (b"garbage before\n%PDF-1.4\n", "x.pdf", "pdf"),
    (b"\xff\xd8\xff\xe0", "scan.pdf", "image"),  # a JPEG named .pdf is still a JPEG
    (b"\x89PNG\r\n\x1a\n", "x", "image"),
    (b"II*\x00", "x", "image"),
    (b"From: a@b.example\nTo: c@d.example\n", "message.txt", "eml"),
    (b"PK\x03\x04", "contrat.docx", "office"),
    (b"PK\x03\x04", "archive.zip", "unknown"),
])
def test_format_is_sniffed_from_content(data, name, kind):
    assert sniff(data, Path(name)) == kind


def test_scan_is_capped_at_300_dpi_once_fitted_to_a4():
    from PIL import Image

    # a 600 dpi A4 scan: 4960 x 7016 pixels
    im = Image.new("L", (4960, 7016), 255)
    d = image_data(im, None, ImagePolicy(), (567.0, 780.0))
    # fitted into 567 x 780 pt, 300 dpi is at most 2363 x 3250 pixels
    assert d.width <= 2363 and d.height <= 3250
    assert abs(d.width / d.height - 4960 / 7016) < 0.01
    small = image_data(Image.new("RGB", (800, 600), "white"), None, ImagePolicy(), (567.0, 780.0))
    assert (small.width, small.height) == (800, 600)  # never enlarged


def test_jpeg_is_passed_through_when_nothing_to_do_and_exif_applied_otherwise():
    from PIL import Image

    raw = make_awkward.jpeg_with_orientation(orientation=1)
    d = image_data(Image.open(io.BytesIO(raw)), raw, ImagePolicy(), (567.0, 780.0))
    assert d.data == raw and d.filter == "/DCTDecode"
    rotated = make_awkward.jpeg_with_orientation(orientation=6)
    d = image_data(Image.open(io.BytesIO(rotated)), rotated, ImagePolicy(), (567.0, 780.0))
    assert (d.width, d.height) == (200, 400) and d.data != rotated
    # the red band stored on the left is on top once upright
    im = Image.open(io.BytesIO(d.data)).convert("RGB")
    assert im.getpixel((100, 20))[0] > 150 and im.getpixel((100, 380))[0] > 200 and im.getpixel((100, 380))[1] > 200


@pytest.mark.parametrize("mode", ["CMYK", "RGBA", "P", "I;16", "LA", "1"])
def test_odd_image_modes_become_rgb_or_grey(mode, tmp_path):
    from PIL import Image

    im = Image.new(mode, (120, 80))
    path = tmp_path / f"scan-{mode.replace(';', '')}.{'tiff' if mode in ('CMYK', 'I;16', '1') else 'png'}"
    im.save(path)
    ex = load_exhibit(spec(path))
    img = ex.pages[0].image
    assert img.colorspace in ("/DeviceRGB", "/DeviceGray") and img.bits in (1, 8)


def test_damaged_image_is_refused(tmp_path):
    p = tmp_path / "scan.jpg"
    p.write_bytes(make_awkward.jpeg_with_orientation()[:200])
    with pytest.raises(EvidenceError, match=r"exhibits\[3\]\.file .*scan\.jpg.*damaged"):
        load_exhibit(spec(p))


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(EvidenceError, match="file not found"):
        load_exhibit(spec(tmp_path / "nope.pdf"))
    with pytest.raises(EvidenceError, match="folder"):
        load_exhibit(spec(tmp_path))


def test_email_without_headers_is_refused(tmp_path):
    p = tmp_path / "note.eml"
    p.write_text("just some text\nwithout headers\n")
    with pytest.raises(EvidenceError, match="does not look like an email"):
        load_exhibit(spec(p), email_renderer=lambda m: b"")


def test_email_headers_and_body():
    assert _french_date("Tue, 06 Jan 2026 09:12:00 +0100") == "6 janvier 2026 à 09:12 (UTC+01:00)"
    assert _french_date("not a date") == "not a date"
    text = html_to_text("<html><head><style>p{}</style></head><body><p>Bonjour&nbsp;!</p><ul><li>F-1</li></ul>"
                        "<script>x()</script></body></html>")
    assert text == "Bonjour\xa0!\n• F-1"


def test_encrypted_pdf_with_empty_user_password_opens_without_asking(tmp_path):
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(io.BytesIO(make_awkward.pdf_pages([(make_awkward.A4, "MARK-OWNER")]))))
    w.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    p = tmp_path / "owner-only.pdf"
    w.write(p)
    assert len(load_exhibit(spec(p)).pages) == 1


def test_page_without_size_is_refused(tmp_path):
    from pypdf import PdfWriter
    from pypdf.generic import RectangleObject

    w = PdfWriter()
    w.add_blank_page(100, 100).mediabox = RectangleObject((0, 0, 0, 0))
    p = tmp_path / "zero.pdf"
    w.write(p)
    with pytest.raises(EvidenceError, match="page 1 has no size"):
        load_exhibit(spec(p))


from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as hst

_BASE = make_awkward.pdf_pages([(make_awkward.A4, "MARK-FUZZ-1"), ((842, 595), "MARK-FUZZ-2")], rotate=90)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hst.lists(hst.tuples(hst.integers(0, len(_BASE) - 1), hst.integers(0, 255)), min_size=1, max_size=6))
@example(edits=[(1127, 1)])  # found by this test: a damaged trailer without /Root
def test_damaged_pdf_is_taken_or_refused_never_a_crash(tmp_path, edits):
    """Whatever bytes are damaged, the exhibit is either placed and stamped, or refused
    with an EvidenceError — never another exception (which the CLI would report as an
    internal error)."""
    from pypdf import PdfWriter

    from dossier.bundle.pages import place_exhibit, stamp_fonts

    data = bytearray(_BASE)
    for pos, value in edits:
        data[pos] = value
    p = tmp_path / "fuzz.pdf"
    p.write_bytes(bytes(data))
    try:
        ex = load_exhibit(spec(p))
        w = PdfWriter()
        refs = place_exhibit(w, ex, 1, stamp_fonts(w))
        for n, sheet in enumerate(refs, start=1):
            sheet.finish(w, n, len(refs))
        w.write(io.BytesIO())
    except EvidenceError as e:
        assert "exhibits[3].file" in str(e) and "fuzz.pdf" in str(e)
    else:
        assert len(refs) == len(ex.pages) >= 1


def test_html_only_email_is_rendered_as_text_with_a_note(tmp_path):
    from datetime import date
    from email.message import EmailMessage
    from types import SimpleNamespace

    from dossier.bundle.layout import email_renderer

    msg = EmailMessage()
    msg["From"] = "a@b.example"
    msg["To"] = "c@d.example"
    msg["Subject"] = "Relance facture F-7"
    msg.set_content("<html><body><p>Bonjour,</p><p>Facture <b>F-7</b> impayée.</p><img src='cid:logo'></body></html>",
                    subtype="html")
    p = tmp_path / "relance.eml"
    p.write_bytes(bytes(msg))
    case = SimpleNamespace(templates=None, creditor=SimpleNamespace(name="Atelier"))
    ex = load_exhibit(spec(p), email_renderer=email_renderer(case, date(2026, 6, 15)))
    text = " ".join(ex.pages[0].reader.pages[0].extract_text().split())
    assert "Objet : Relance facture F-7" in text and "Facture F-7 impayée." in text
    assert "reproduit en texte" in text and "<b>" not in text


def test_stamp_text_outside_winansi_degrades_gracefully():
    from dossier.bundle.stamp import pdf_string

    assert pdf_string("Szőke (Łódź)") == b"(Szoke \\(L\xf3dz\\))"


def test_aes_encrypted_pdf_opens_with_its_password_or_says_what_is_missing(tmp_path):
    p = tmp_path / "aes.pdf"
    try:
        p.write_bytes(make_awkward.pdf_pages([(make_awkward.A4, "MARK-AES")], password="pw", algorithm="AES-256"))
    except Exception:  # noqa: BLE001 - no AES provider to even write one
        pytest.skip("no AES provider (cryptography) installed")
    assert len(load_exhibit(spec(p, password="pw")).pages) == 1
    with pytest.raises(EvidenceError, match="password-protected"):
        load_exhibit(spec(p))


def test_animated_image_gives_one_page_tiff_one_per_frame(tmp_path):
    from PIL import Image

    frames = [Image.new("RGB", (60, 40), c) for c in ("red", "green", "blue")]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100)
    assert len(load_exhibit(spec(gif)).pages) == 1
    tif = tmp_path / "fax.tiff"
    frames[0].save(tif, save_all=True, append_images=frames[1:])
    assert len(load_exhibit(spec(tif)).pages) == 3
