"""HTML to PDF: embedded vendored fonts, PDF/A-3b, byte-identical renders, metadata."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date

import pytest
from pypdf import PdfReader

from dossier.errors import TemplateError
from dossier.render import templates
from dossier.render.pdf import PdfMeta, embedded_fonts, html_to_pdf

META = PdfMeta(title="Essai", date=date(2026, 11, 23), author="Atelier Martin", subject="Relance", keywords=("relance",))


def _html(body: str) -> str:
    css = templates.render("base.css", {})
    return f'<html lang="fr"><head><style>{css}</style></head><body>{body}</body></html>'


def test_fonts_embedded_and_named():
    pdf = html_to_pdf(_html("<p>Texte <b>gras</b> <i>italique</i></p><h1>Titre</h1>"), base_url=None, metadata=META)
    names = {n.split("+", 1)[1] for n in embedded_fonts(pdf)}
    assert {"Dossier-Serif", "Dossier-Serif-Bold", "Dossier-Serif-Italic", "Dossier-Sans-Bold"} <= names
    # every font used is embedded: none is left to the reader's system
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            assert "+" in str(ref.get_object()["/BaseFont"])


def test_pdfa_metadata_and_dates_from_at():
    pdf = html_to_pdf(_html("<p>x</p>"), base_url=None, metadata=META)
    reader = PdfReader(io.BytesIO(pdf))
    info = reader.metadata
    assert info.title == "Essai" and info.author == "Atelier Martin"
    assert info["/CreationDate"] == info["/ModDate"] == "D:20261123000000Z"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp
    assert b"2026-11-23T00:00:00Z" in xmp
    assert pdf.startswith(b"%PDF-1.7")


def test_page_numbering_page_x_of_n():
    body = "".join(f"<p>Paragraphe {i} " + "texte " * 80 + "</p>" for i in range(40))
    pdf = html_to_pdf(_html(body), base_url=None, metadata=META)
    reader = PdfReader(io.BytesIO(pdf))
    n = len(reader.pages)
    assert n >= 2
    assert "page 1/%d" % n in reader.pages[0].extract_text()
    assert "page %d/%d" % (n, n) in reader.pages[-1].extract_text()


def test_two_renders_byte_identical_even_across_processes(tmp_path):
    html = _html("<p>Dupont &amp; Fils — 1 234,56 €</p>")
    a = html_to_pdf(html, base_url=None, metadata=META, attachments=[("decompte.json", b"{}", "décompte")])
    b = html_to_pdf(html, base_url=None, metadata=META, attachments=[("decompte.json", b"{}", "décompte")])
    assert a == b
    script = (
        "import sys; from datetime import date;"
        "from dossier.render.pdf import html_to_pdf, PdfMeta;"
        "html = sys.stdin.read();"
        "m = PdfMeta(title='Essai', date=date(2026, 11, 23), author='Atelier Martin', subject='Relance', keywords=('relance',));"
        "sys.stdout.buffer.write(html_to_pdf(html, base_url=None, metadata=m, attachments=[('decompte.json', b'{}', 'décompte')]))"
    )
    out = subprocess.run([sys.executable, "-c", script], input=html.encode(), capture_output=True, check=True).stdout
    assert out == a
    # a different --at date changes the bytes
    c = html_to_pdf(html, base_url=None, metadata=PdfMeta(title="Essai", date=date(2026, 11, 24), author="Atelier Martin", subject="Relance", keywords=("relance",)), attachments=[("decompte.json", b"{}", "décompte")])
    assert c != a


def test_special_characters_render_literally():
    html = templates.environment().from_string("<p>{{ name }}</p>").render(name="Dupont & Fils <SARL> \"L'Étoile\"")
    pdf = html_to_pdf(_html(html), base_url=None, metadata=META)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Dupont & Fils <SARL> \"L'Étoile\"" in text


def test_user_templates_override_shipped(tmp_path):
    (tmp_path / "base.css").write_text("/* mine */", encoding="utf-8")
    assert templates.render("base.css", {}, [tmp_path]) == "/* mine */"
    assert "Dossier Serif" in templates.render("base.css", {}, [])


def test_template_errors_name_file_and_line(tmp_path):
    (tmp_path / "x.html").write_text("<p>\n{{ missing_var }}\n</p>", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"x\.html:2: .*missing_var"):
        templates.render("x.html", {}, [tmp_path])
    (tmp_path / "y.html").write_text("<p>\n{% if %}\n</p>", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"y\.html:2: template syntax error"):
        templates.render("y.html", {}, [tmp_path])
    with pytest.raises(TemplateError, match="nope.html: template not found"):
        templates.render("nope.html", {}, [tmp_path])
    with pytest.raises(TemplateError, match="templates folder not found"):
        templates.render("x.html", {}, [tmp_path / "absent"])
