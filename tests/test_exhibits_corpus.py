"""Real-world evidence from ../shared/evidence-corpus (py-pdf sample files, CC-BY-SA-4.0):
every file is taken or refused with a clear message. Skipped when the corpus is absent;
the files are never copied into the repository."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from helpers import (
    AT,
    SHARED,
    norm,
    state_of,  # noqa: E402
    write_case,
)

CORPUS = SHARED / "evidence-corpus"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/evidence-corpus not available")

#: files refused, and the words their message must contain
REFUSED = {
    "unreadablemetadata.pdf": "damaged",
    "libreoffice-writer-password.pdf": "password-protected",
}


def corpus_files():
    if not CORPUS.is_dir():
        return []
    return sorted(p.name for p in CORPUS.iterdir() if p.suffix.lower() in (".pdf", ".tiff", ".tif", ".jpg", ".png"))


@pytest.mark.parametrize("name", corpus_files())
def test_each_corpus_file_is_taken_or_refused_clearly(name):
    from dossier.bundle.exhibits import ExhibitSpec, load_exhibit
    from dossier.errors import EvidenceError

    spec = ExhibitSpec("autre", name, CORPUS / name, "exhibits[4].file")
    if name in REFUSED:
        with pytest.raises(EvidenceError) as e:
            load_exhibit(spec)
        msg = str(e.value)
        assert "exhibits[4].file" in msg and name in msg and REFUSED[name] in msg
    else:
        ex = load_exhibit(spec)
        assert ex.pages


def test_password_from_the_case_file_opens_the_encrypted_pdf():
    from dossier.bundle.exhibits import ExhibitSpec, load_exhibit

    spec = ExhibitSpec("contrat", "c", CORPUS / "libreoffice-writer-password.pdf", "exhibits[0].file",
                       password="openpassword")
    assert len(load_exhibit(spec).pages) == 1


@pytest.fixture(scope="module")
def corpus_bundle(tmp_path_factory, rates):
    from dossier.bundle import build_bundle
    from dossier.casefile import load_case

    import make_awkward

    aw = make_awkward.make_all(tmp_path_factory.mktemp("aw"))
    names = [n for n in corpus_files() if n != "unreadablemetadata.pdf"]
    files = {n: CORPUS / n for n in names}
    files.update({"portrait.pdf": aw["portrait.pdf"], "mail.eml": aw["mail.eml"]})
    exhibits = [("autre", n, n, "openpassword" if "password" in n else None) for n in names]
    root = write_case(tmp_path_factory.mktemp("corpus") / "c", exhibits, files=files)
    case = load_case(root, AT)
    return build_bundle(state_of(case, AT, rates), with_docx=False)


def test_corpus_dossier_pages_stamps_and_count(corpus_bundle):
    r = corpus_bundle
    reader = PdfReader(io.BytesIO(r.pdf))
    assert len(reader.pages) == r.front_pages + sum(e.pages for e in r.exhibits)
    for e in r.exhibits:
        for k in range(e.pages):
            page = reader.pages[e.first_page - 1 + k]
            assert f"Pièce n° {e.number} — p. {k + 1}/{e.pages}" in norm(page.extract_text())
            assert "/Rotate" not in page and "/Annots" not in page  # normalised and flattened
    assert "/AcroForm" not in reader.trailer["/Root"]  # no clash of merged forms


def test_corpus_exhibit_outline_is_nested_under_its_exhibit(corpus_bundle):
    r = corpus_bundle
    reader = PdfReader(io.BytesIO(r.pdf))
    e = next(e for e in r.exhibits if e.title == "pdflatex-outline.pdf")
    outline = reader.outline
    i = next(i for i, o in enumerate(outline) if not isinstance(o, list) and o.title.startswith(f"Pièce n° {e.number} — "))
    children = outline[i + 1]
    assert isinstance(children, list) and len(children) >= 3
    for child in children:
        if isinstance(child, list):
            continue
        page = reader.get_destination_page_number(child) + 1
        assert e.first_page <= page <= e.last_page
    top = [o for o in outline if not isinstance(o, list)]
    assert len(top) == len(r.sections) + len(r.exhibits)


def test_form_values_and_highlights_survive_flattening(corpus_bundle):
    r = corpus_bundle
    reader = PdfReader(io.BytesIO(r.pdf))
    form = next(e for e in r.exhibits if e.title == "libreoffice-form.pdf")
    assert "Alice" in reader.pages[form.first_page - 1].extract_text()  # /V with an empty appearance
    ann = next(e for e in r.exhibits if e.title == "annotated_pdf.pdf")
    page = reader.pages[ann.first_page - 1]
    assert "/DsHl" in page["/Resources"]["/ExtGState"]  # the highlights are drawn


def test_corpus_warnings_name_the_file(corpus_bundle):
    w = [x for x in corpus_bundle.warnings if "with-attachment.pdf" in x]
    assert w and re.search(r"exhibits\[\d+\]\.file", w[0]) and "attachments" in w[0]
