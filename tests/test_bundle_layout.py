"""Pure parts of the dossier: exhibit order and de-duplication, page layout (no PDF here)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as hst

from dossier.bundle.collect import collect_exhibits
from dossier.bundle.layout import layout
from dossier.journal import JournalEntry, JournalFile
from dossier.model import Address, Case, Exhibit, Invoice, Notice, Party, Source, Terms

ADDR = Address(("1 rue A",), "69002", "Lyon")


def case(root: Path, exhibits=(), invoices=(), notices=()) -> Case:
    return Case(
        reference="T-1", root=root, creditor=Party("A", ADDR, legal_form="SARL"), debtor=Party("B", ADDR, legal_form="SAS"),
        terms=Terms(), invoices=tuple(invoices), exhibits=tuple(exhibits), notices=tuple(notices),
    )


def test_legal_order_groups_dates_and_duplicates(tmp_path):
    p = lambda name: tmp_path / name  # noqa: E731
    c = case(
        tmp_path,
        exhibits=[
            Exhibit("autre", "Accusé de réception de la LRAR", p("ar.png"), date(2026, 3, 5)),
            Exhibit("correspondance", "Courriel du client", p("mail.eml"), date(2026, 2, 1)),
            Exhibit("cgv", "CGV", p("cgv.pdf"), date(2024, 1, 1)),
            Exhibit("bon-de-livraison", "BL", p("bl.pdf"), date(2025, 12, 1)),
            Exhibit("devis", "Devis signé", p("devis.pdf"), date(2025, 11, 2)),
            Exhibit("facture", "Facture F-2 (copie signée)", p("f2.pdf"), date(2025, 12, 5),
                    source=Source("case.yaml", 30, "exhibits[5]")),
            Exhibit("autre", "Photo du chantier", p("photo.jpg"), None),
            Exhibit("contrat", "Contrat cadre", p("contrat.pdf"), date(2025, 11, 20)),
        ],
        invoices=[
            Invoice("F-2", date(2025, 12, 5), date(2026, 1, 4), Decimal("100"), file=p("f2.pdf")),  # also an exhibit
            Invoice("F-1", date(2025, 12, 1), date(2025, 12, 31), Decimal("100"), file=p("f1.pdf")),
            Invoice("F-3", date(2025, 12, 9), date(2026, 1, 8), Decimal("100")),  # no file
        ],
        notices=[
            Notice("mise-en-demeure", date(2026, 3, 1), "lrar", p("med.pdf"), lrar_number="1A 1"),
            Notice("relance-1", date(2026, 1, 10), "email", p("mail.eml")),  # same file as an exhibit
            Notice("relance-2", date(2026, 1, 20), "phone"),  # no file: not an exhibit
        ],
    )
    journal = [
        JournalEntry("dernier-avis", date(2026, 2, 15), "email", "sent", line=3,
                     files=(JournalFile("out/dernier-avis.eml", "a"), JournalFile("out/dernier-avis.pdf", "b"))),
        JournalEntry("mise-en-demeure", date(2026, 2, 20), "lrar", "generated", line=4,
                     files=(JournalFile("out/mise-en-demeure.pdf", "c"),)),
    ]
    specs = collect_exhibits(c, journal)
    names = [s.file.name for s in specs]
    assert names == [
        "contrat.pdf", "devis.pdf", "cgv.pdf",  # contractual: contract, quote, terms (logical order)
        "bl.pdf",  # performance
        "f1.pdf", "f2.pdf",  # invoices by date; F-2 once, as its `exhibits:` entry
        "mail.eml", "dernier-avis.pdf", "med.pdf",  # notices and correspondence by date; journal's PDF
        "photo.jpg",  # other
        "ar.png",  # proofs of receipt last
    ]
    f2 = specs[names.index("f2.pdf")]
    assert f2.title == "Facture F-2 (copie signée)" and f2.field == "exhibits[5].file" and f2.location == "case.yaml:30"
    journal_spec = specs[names.index("dernier-avis.pdf")]
    assert journal_spec.field == "files[1].path" and journal_spec.location == "journal.jsonl:3"
    assert journal_spec.sha256 == "b" and journal_spec.file == tmp_path / "out" / "dernier-avis.pdf"
    med = specs[names.index("med.pdf")]
    assert med.title == "Mise en demeure du 1er mars 2026 (lettre recommandée avec accusé de réception n° 1A 1)"


def _loaded(pages):
    return [SimpleNamespace(pages=[None] * n, spec=SimpleNamespace(title=f"P{i}", kind="autre", date=None,
                                                                    file=Path(f"p{i}"), field="f", group=4),
                            fmt="pdf") for i, n in enumerate(pages)]


@given(hst.lists(hst.integers(1, 40), max_size=30), hst.tuples(*[hst.integers(1, 5)] * 4), hst.booleans())
def test_layout_pages_are_contiguous_and_duplex_starts_on_odd_pages(pages, front, duplex):
    sections, exhibits, total, blanks = layout(_loaded(pages), *front, "court", duplex)
    used = []
    for s in sections:
        used += range(s.first_page, s.first_page + s.pages)
    for e in exhibits:
        used += range(e.first_page, e.last_page + 1)
    assert sorted(used + list(blanks)) == list(range(1, total + 1))  # every page once
    assert [e.number for e in exhibits] == list(range(1, len(pages) + 1))
    assert [e.pages for e in exhibits] == pages
    if duplex:
        assert all(x.first_page % 2 == 1 for x in [*sections, *exhibits])
        assert all(b % 2 == 0 for b in blanks)
    else:
        assert blanks == () and total == sum(front) + sum(pages)
