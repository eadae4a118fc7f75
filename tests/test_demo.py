"""The README's first command: `dossier demo` writes every document of every sample."""

import json
from decimal import Decimal

from pypdf import PdfReader

from dossier.fmt import amount_in_words, money

from helpers import run_cli

STAGES = ["rappel-preventif", "relance-1", "relance-2", "echeancier", "dernier-avis", "mise-en-demeure"]


def test_demo_writes_every_document(tmp_path):
    proc = run_cli("demo", "-o", tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in ("atelier-martin", "studio-graphique", "consumer-renovation"):
        out = tmp_path / name / "out"
        for stage in STAGES:
            assert (out / f"{stage}.pdf").stat().st_size > 10_000, (name, stage)
        assert list(out.glob("*-dossier-injonction-de-payer.pdf"))
        computed = json.loads((out / "decompte.json").read_text())
        text = " ".join(p.extract_text() for p in PdfReader(out / "mise-en-demeure.pdf").pages)
        text = " ".join(text.replace("\u00a0", " ").split())
        total = Decimal(computed["total"])
        assert money(total).replace("\u00a0", " ") in text
        assert amount_in_words(total) in text
    # the bailiff file only for the claim under 5,000 EUR
    assert list((tmp_path / "consumer-renovation" / "out").glob("*-petites-creances.pdf"))
    assert not list((tmp_path / "atelier-martin" / "out").glob("*-petites-creances.pdf"))
