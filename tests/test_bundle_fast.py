"""The dossier's own drawing: embedded WinAnsi fonts, the bordereau and table of contents
drawn without WeasyPrint, and the cover + requête typeset in a background process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import (
    AT,
    GOOD,
    lines_of,
    make_awkward,
    norm,
    reader_of,
    state_of,  # noqa: E402
    write_case,
)

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- fonts


def test_shipped_winansi_fonts_are_what_the_build_script_makes():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "make_winansi_fonts.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_winansi_widths_are_the_font_programs_own():
    """PDF viewers (and PDF/A validators) require the /Widths array to match the embedded
    font; measuring with it is also what keeps right-aligned numbers flush."""
    from fontTools.ttLib import TTFont

    from dossier.render.winansi import FONTS_DIR, fonts

    for f in fonts().values():
        tt = TTFont(FONTS_DIR / f.file)
        upm = tt["head"].unitsPerEm
        cmap = tt.getBestCmap()
        for code in range(32, 256):
            try:
                cp = ord(bytes([code]).decode("cp1252"))
            except UnicodeDecodeError:
                continue
            if cp == 0x7F:  # DEL, a control character
                continue
            assert cp in cmap, (f.file, hex(code))
            assert f.widths[code - 32] == round(tt["hmtx"][cmap[cp]][0] * 1000 / upm), (f.file, chr(cp))
        name = {r.nameID: str(r) for r in tt["name"].names if r.platformID == 3}
        assert "Liberation" not in name[1] and "Liberation" not in name[6]  # OFL Reserved Font Name
        assert "Open Font License" in name[13]


@pytest.mark.parametrize("text, raw", [
    ("Pièce n° 3 — p. 1/2", "Pièce n° 3 — p. 1/2".encode("cp1252")),
    ("1\u202f300,00\u00a0€", b"1\xa0300,00\xa0\x80"),
    ("Szőke Łódź Σ", b"Szoke L\xf3dz ?"),
    ("œuvre « citée »", "œuvre « citée »".encode("cp1252")),
])
def test_winansi_encoding_keeps_french_and_degrades_the_rest(text, raw):
    from dossier.render.winansi import encode

    assert encode(text) == raw


def test_every_font_the_dossier_draws_with_is_embedded(built):
    """Stamps, page numbers, bordereau and table of contents: no font without its program
    (the evidence's own fonts are the evidence's business)."""
    _, r = built
    reader = reader_of(r)
    for index, page in enumerate(reader.pages):
        for name, ref in page["/Resources"]["/Font"].items():
            f = ref.get_object()
            descriptor = f.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in f:
                descriptor = f["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert descriptor is not None, (index + 1, name)
            d = descriptor.get_object()
            assert any(k in d for k in ("/FontFile", "/FontFile2", "/FontFile3")), (index + 1, name, f["/BaseFont"])


# --------------------------------------------------------------------------- drawn pages


def test_wrap_breaks_at_spaces_and_cuts_overlong_words():
    from dossier.bundle.tables import wrap
    from dossier.render.winansi import font

    lines = wrap("Contrat de prestation de services signé le 3 mars " * 4, "serif", 9.5, 200)
    assert len(lines) > 1 and all(font("serif").width(x, 9.5) <= 200 for x in lines)
    assert " ".join(lines).split() == ("Contrat de prestation de services signé le 3 mars " * 4).split()
    cut = wrap("A" * 200, "serif", 9.5, 100)
    assert "".join(cut) == "A" * 200 and all(font("serif").width(x, 9.5) <= 100 for x in cut)
    assert wrap("", "serif", 9.5, 100) == [""]


@pytest.fixture(scope="module")
def long_case(tmp_path_factory):
    """70 exhibits in three groups, some titles long enough to take three lines."""
    tmp = tmp_path_factory.mktemp("long")
    files, exhibits = {}, []
    kinds = ["contrat"] * 5 + ["bon-de-livraison"] * 30 + ["correspondance"] * 35
    for i, kind in enumerate(kinds):
        p = tmp / f"src-{i:02d}.pdf"
        p.write_bytes(make_awkward.pdf_pages([(make_awkward.A4, f"MARK-{i}")]))
        files[p.name] = p
        title = f"Pièce {i}" + (" — échange de courriers électroniques au sujet du retard de livraison" * 3
                                if i % 9 == 4 else "")
        exhibits.append((kind, title, p.name))
    files["portrait.pdf"] = tmp / "portrait.pdf"
    files["portrait.pdf"].write_bytes(make_awkward.pdf_pages([(make_awkward.A4, "MARK-INV")]))
    files["mail.eml"] = tmp / "mail.eml"
    files["mail.eml"].write_bytes(make_awkward.eml_with_pdf(make_awkward.pdf_pages([(make_awkward.A4, "ATT")])))
    return write_case(tmp / "case", exhibits, files=files)


@pytest.fixture(scope="module")
def long_built(long_case, rates):
    from dossier.bundle import build_bundle
    from dossier.casefile import load_case

    return build_bundle(state_of(load_case(long_case, AT), AT, rates), with_docx=False)


def test_bordereau_repeats_its_header_and_keeps_group_headings_with_a_row(long_built):
    r = long_built
    reader = reader_of(r)
    bord = next(s for s in r.sections if s.title.startswith("Bordereau"))
    assert bord.pages >= 2
    groups = {"DOCUMENTS CONTRACTUELS", "EXÉCUTION ET LIVRAISON", "RELANCES, CORRESPONDANCE ET MISE EN DEMEURE"}
    seen = set()
    for k in range(bord.pages):
        lines = lines_of(reader.pages[bord.first_page - 1 + k])
        header = [i for i, x in enumerate(lines) if x == "N° Désignation de la pièce Date Pages du dossier"]
        assert len(header) == 1, (k, lines[:6])
        for i, line in enumerate(lines):
            if line in groups:
                seen.add(line)
                assert i + 1 < len(lines) and lines[i + 1].split()[0].isdigit(), (k, line)  # never orphaned
    assert seen == groups


def test_long_titles_wrap_inside_their_column_and_rows_grow(long_built):
    r = long_built
    reader = reader_of(r)
    bord = next(s for s in r.sections if s.title.startswith("Bordereau"))
    text = "\n".join(x for k in range(bord.pages) for x in lines_of(reader.pages[bord.first_page - 1 + k]))
    long = next(e for e in r.exhibits if len(e.title) > 150)
    first = re.search(rf"^{long.number} Pièce \d+ — échange .* 02/01/2026 p\. {long.first_page} \(1 p\.\)$", text, re.M)
    assert first, text
    # the rest of the title on the next lines, alone (date and pages only on the first)
    after = text[first.end():].split("\n")[1:3]
    assert all("02/01/2026" not in x and "p." not in x for x in after) and "retard de livraison" in after[-1]


def test_overridden_bordereau_template_is_typeset_by_weasyprint(tmp_path, awkward, rates):
    """A user's dossiers/bordereau.html is honoured (WeasyPrint path), with links to the
    printed pages."""
    from dossier.bundle import build_bundle
    from dossier.casefile import load_case

    root = write_case(tmp_path / "c", [(k, t, f, "secret" if f == "encrypted.pdf" else None) for k, t, f, _ in GOOD],
                      files=awkward)
    (root / "tpl" / "dossiers").mkdir(parents=True)
    shipped = ROOT / "src" / "dossier" / "templates" / "dossiers" / "bordereau.html"
    (root / "tpl" / "dossiers" / "bordereau.html").write_text(
        shipped.read_text(encoding="utf-8").replace("Bordereau des pièces communiquées",
                                                    "Bordereau des pièces (modèle du cabinet)"), encoding="utf-8")
    text = (root / "case.yaml").read_text(encoding="utf-8")
    (root / "case.yaml").write_text("templates: tpl\n" + text, encoding="utf-8")
    r = build_bundle(state_of(load_case(root, AT), AT, rates), with_docx=False)
    reader = reader_of(r)
    bord = next(s for s in r.sections if s.title.startswith("Bordereau"))
    page = reader.pages[bord.first_page - 1]
    assert "Bordereau des pièces (modèle du cabinet)" in norm(page.extract_text())
    targets = {reader.get_page_number(a.get_object()["/Dest"][0].get_object()) + 1 for a in page["/Annots"]}
    assert targets == {e.first_page for e in r.exhibits}


# --------------------------------------------------------------------------- background


def test_forked_and_in_process_dossiers_are_byte_identical(awkward_case, built):
    """The cover and requête typeset in a child process give the same file as in-process
    (DOSSIER_NO_FORK), and the same as the session's dossier."""
    code = (
        "import sys; from datetime import date; from dossier.snapshot import open_case; "
        "from dossier.law.rates import load_rates; from dossier.bundle import build_bundle; "
        "from dossier.bundle.background import can_fork; "
        f"r = build_bundle(open_case({str(awkward_case)!r}, date(2026, 6, 15), load_rates(user_file=False))); "
        "sys.stdout.buffer.write(b'FORK' if can_fork() else b'SELF'); sys.stdout.buffer.write(r.pdf)"
    )
    outputs = {}
    for mode in ("fork", "self"):
        env = dict(os.environ)
        env.pop("DOSSIER_NO_FORK", None)
        if mode == "self":
            env["DOSSIER_NO_FORK"] = "1"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr.decode()
        outputs[mode] = proc.stdout
    assert outputs["self"][:4] == b"SELF"
    if os.cpu_count() and os.cpu_count() > 1 and sys.platform.startswith("linux"):
        assert outputs["fork"][:4] == b"FORK"
    assert outputs["fork"][4:] == outputs["self"][4:] == built[1].pdf


def _parent_only(value):
    pid = os.getpid()

    def fn():
        if os.getpid() != pid:
            os._exit(9)  # the child dies without answering
        return value

    return fn


def test_background_redoes_the_work_when_the_child_dies():
    from dossier.bundle.background import Background

    job = Background(_parent_only(b"answer" * 10_000), fork=True)
    assert job.forked  # the child really ran, and died without answering
    assert job.result() == b"answer" * 10_000


def test_background_passes_errors_back_with_their_class():
    from dossier.bundle.background import Background
    from dossier.errors import TemplateError

    parent = os.getpid()

    def fail():
        assert os.getpid() != parent  # raised in the child, not redone here
        raise TemplateError("dossiers/requete.html: line 3: unexpected '}'")

    job = Background(fail, fork=True)
    assert job.forked
    with pytest.raises(TemplateError, match="line 3"):
        job.result()

    def crash():
        assert os.getpid() != parent
        return 1 / 0

    crashed = Background(crash, fork=True)
    assert crashed.forked
    with pytest.raises((ZeroDivisionError, RuntimeError), match="division"):
        crashed.result()


def test_a_large_result_comes_back_whole():
    from dossier.bundle.background import Background

    big = os.urandom(3_000_000)
    job = Background(lambda: (big, os.getpid()), fork=True)
    assert job.forked
    value, pid = job.result()
    assert value == big and pid != os.getpid()  # computed in the child, sent back whole
    assert job.result() == (big, pid)  # asked twice, computed once





def test_names_outside_winansi_are_typeset_by_weasyprint_not_mangled(tmp_path, awkward, rates):
    """A Polish exhibit title cannot be drawn with the WinAnsi fonts: the bordereau and
    table of contents then come from WeasyPrint, with every letter intact."""
    from dossier.bundle import build_bundle
    from dossier.casefile import load_case

    root = write_case(tmp_path / "pl", [("correspondance", "Lettre de Łukasz Wróbel (Łódź)", "portrait.pdf")],
                      files={"portrait.pdf": awkward["portrait.pdf"], "mail.eml": awkward["mail.eml"]})
    r = build_bundle(state_of(load_case(root, AT), AT, rates), with_docx=False)
    reader = reader_of(r)
    for title in ("Bordereau", "Sommaire"):
        s = next(s for s in r.sections if s.title.startswith(title))
        assert "Lettre de Łukasz Wróbel (Łódź)" in norm(reader.pages[s.first_page - 1].extract_text())


def test_winansi_exact_tells_what_can_be_drawn_as_written():
    from dossier.render.winansi import encode, exact

    assert exact("Créances « œuvre » 1\u202f300,00\u00a0€ — Noël")
    assert not exact("Łódź") and not exact("Σοφία")
    assert encode("Łódź") == "Lódz".encode("cp1252")  # the stamps' header still reads well


@pytest.mark.parametrize("text, cpus", [("max 100000\n", None), ("150000 100000\n", 1.5), ("50000 100000", 0.5),
                                        ("garbage", None)])
def test_cgroup_cpu_quota_is_read(text, cpus):
    from dossier.bundle.background import _cgroup2

    assert _cgroup2(text) == cpus


def test_an_absurdly_long_title_is_cut_to_fit_one_page():
    from dossier.bundle import tables
    from dossier.render.winansi import font

    lines = tables._cap(tables.wrap("mot " * 3000, "serif", 9.5, tables.B_DESC_W), "serif", 9.5, tables.B_DESC_W)
    assert len(lines) == tables.MAX_ROW_LINES and lines[-1].endswith(" …")
    assert font("serif").width(lines[-1], 9.5) <= tables.B_DESC_W
    assert tables.MAX_ROW_LINES * 9.5 * tables.LINE + 2 * tables.PAD < tables.TOP - tables.BOTTOM - 60
