"""Helpers shared by the test modules (case builders, PDF text readers, the CLI runner).

Test modules import from here, never from one another.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from dossier.model import Address, Bank, Case, Exhibit, Invoice, Party, Payment, Person, Terms

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared"
DEMO_DATE = "2026-06-15"
STAGES = ("rappel-preventif", "relance-1", "relance-2", "echeancier", "dernier-avis", "mise-en-demeure")
MM = 72 / 25.4

sys.path.insert(0, str(TESTS / "fixtures"))
import make_awkward  # noqa: E402,F401  (re-exported)


def run_cli(*args, cwd=None, env=None):
    """Run the real console entry point in a subprocess; returns CompletedProcess."""
    e = dict(os.environ)
    e.pop("DOSSIER_DEBUG", None)
    e.setdefault("DOSSIER_RATES_FILE", str(Path(cwd or ROOT) / "no-user-rates.csv"))
    if env:
        e.update(env)
    return subprocess.run(
        [sys.executable, "-m", "dossier.cli", *map(str, args)],
        capture_output=True, text=True, cwd=cwd or ROOT, env=e, timeout=300,
    )


AT = date(2026, 6, 15)


def norm(text: str) -> str:
    """Extracted text with every kind of space made one plain space."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def lines_of(page) -> list[str]:
    """The page's text as visual lines (fragments grouped by baseline, left to right):
    independent of the order in which the PDF draws them."""
    frags = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            frags.append((round(y / 3), x, text))

    page.extract_text(visitor_text=visit)
    by_line: dict[int, list] = {}
    for y, x, t in frags:
        by_line.setdefault(y, []).append((x, t))
    return [norm(" ".join(t for _, t in sorted(v))).strip() for _, v in sorted(by_line.items(), reverse=True)]


# --------------------------------------------------------------------------- fixtures


CASE_YAML = """\
reference: AWK-2026-001
creditor:
  name: Atelier Test
  legal_form: SARL
  capital: "10000"
  siren: "732829320"
  rcs_city: Lyon
  address: {{lines: ["12 rue de la Paix"], postal_code: "69002", city: Lyon, country: FR}}
  email: compta@atelier.example
  signatory: {{name: Claire Test, title: Gérante}}
debtor:
  kind: company
  name: Client Difficile
  legal_form: SAS
  siren: "539749960"
  address: {{lines: ["5 place Grenette"], postal_code: "38000", city: Grenoble, country: FR}}
{court}terms:
  payment_days: 30
  flat_indemnity: true
invoices:
  - {{number: F-1, issued: 2026-01-05, due: 2026-02-04, amount_excl_tax: "2000.00", amount_incl_tax: "2400.00", file: pieces/portrait.pdf}}
exhibits:
{exhibits}notices:
  - {{stage: relance-1, date: 2026-02-10, channel: email, file: pieces/mail.eml}}
"""

GOOD = [
    # (kind, title, file, expected pages)
    ("bon-de-livraison", "Bon de livraison paysage", "landscape.pdf", 1),
    ("contrat", "Contrat A3", "a3.pdf", 1),
    ("devis", "Devis tourné", "rotated.pdf", 1),
    ("cgv", "CGV à l'envers", "rotated180.pdf", 1),
    ("bon-de-commande", "Bon de commande scanné (EXIF)", "scan-exif.jpg", 1),
    ("autre", "Plan (PNG transparent)", "scan.png", 1),
    ("correspondance", "Fax TIFF deux pages", "scan.tiff", 2),
    ("autre", "Boîte décalée", "offset-box.pdf", 1),
    ("autre", "Petit reçu", "letter-small.pdf", 1),
    ("autre", "Accusé de réception de la mise en demeure", "encrypted.pdf", 1),
]


def write_case(root: Path, exhibits, *, court: str | None = None, files: dict | None = None) -> Path:
    pieces = root / "pieces"
    pieces.mkdir(parents=True, exist_ok=True)
    for name, path in (files or {}).items():
        (pieces / name).write_bytes(Path(path).read_bytes())
    lines = []
    for kind, title, file, *rest in exhibits:
        extra = f", password: {rest[0]}" if rest and rest[0] else ""
        lines.append(f"  - {{kind: {kind}, title: \"{title}\", date: 2026-01-02, file: pieces/{file}{extra}}}\n")
    (root / "case.yaml").write_text(CASE_YAML.format(
        exhibits="".join(lines) or "  []\n", court=f"court: {court}\n" if court else ""), encoding="utf-8")
    return root


# fixtures awkward, awkward_case, built: conftest.py (shared with test_bundle_fast.py)


def sample_copy(name: str, tmp_path: Path) -> Path:
    """A private copy of a sample case (the CLI records what it writes in the case's
    journal: never in the repository's samples)."""
    dst = tmp_path / "cases" / name
    shutil.copytree(SAMPLES / name, dst, ignore=shutil.ignore_patterns("out", "journal.jsonl"))
    return dst


def reader_of(result) -> PdfReader:
    return PdfReader(io.BytesIO(result.pdf))



def _pdf_file(path: Path) -> Path:
    w = PdfWriter()
    w.add_blank_page(595, 842)
    with open(path, "wb") as f:
        w.write(f)
    return path


def make_case(root: Path, *, consumer: bool = False, debtor_name: str = "Dupont & Fils <Père>",
              notices: tuple = (), invoices=None, payments=None, email: str | None = "compta@dupont.example") -> Case:
    """A B2B (or consumer) case with two overdue invoices, one partial payment, a signed
    quote; evidence files created in ``root/pieces``."""
    pieces = root / "pieces"
    pieces.mkdir(parents=True, exist_ok=True)
    if invoices is None:
        invoices = (
            Invoice("F2026-014", date(2026, 3, 2), date(2026, 4, 1), D("4800.00"), D("4000.00"), _pdf_file(pieces / "F2026-014.pdf")),
            Invoice("F2026-021", date(2026, 4, 10), date(2026, 5, 10), D("1234.56"), D("1028.80"), _pdf_file(pieces / "F2026-021.pdf")),
        )
    if payments is None:
        payments = (Payment(date(2026, 4, 20), D("1000.00"), "F2026-014"),)
    creditor = Party(
        name="Atelier Martin",
        address=Address(("12 rue de la Paix",), "69002", "Lyon"),
        legal_form="SARL", capital=D("10000"), siren="732829320", siret="73282932000017", rcs_city="Lyon",
        vat_number="FR44732829320", email="comptabilite@atelier-martin.example", phone="04 72 00 00 00",
        signatory=Person("Claire Martin", "Gérante"),
        bank=Bank("FR7630006000011234567890189", "AGRIFRPP", "Crédit Agricole"),
        payment_link="https://pay.example/abc",
    )
    if consumer:
        debtor = Party(name=debtor_name, kind="consumer", address=Address(("3 allée des Tilleuls", "Bâtiment B"), "38000", "Grenoble"), email=email)
    else:
        debtor = Party(
            name=debtor_name, address=Address(("5 place Grenette",), "38000", "Grenoble"), legal_form="SAS",
            siren="539749960", representative=Person("Paul Dupont", "Président"), email=email, phone="04 76 00 00 00",
        )
    return Case(
        reference="AM-2026-014", root=root, creditor=creditor, debtor=debtor, terms=Terms(),
        invoices=invoices, payments=payments,
        exhibits=(Exhibit("devis", "Devis D-2026-031 signé", _pdf_file(pieces / "devis.pdf"), date(2026, 2, 12)),),
        notices=notices,
    )


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def docx_text(data: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def squash(s: str) -> str:
    return " ".join(s.replace("\u00a0", " ").replace("\u202f", " ").split())




def invoke(*args, env: dict | None = None, input: str | None = None) -> tuple[int, str, str]:
    """Run the CLI in-process (the same ``main`` as the console script, with its exit-code
    mapping): returns (exit code, stdout, stderr). Much faster than :func:`run_cli`."""
    import contextlib

    from dossier.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    saved_stdin = sys.stdin
    try:
        os.environ.pop("DOSSIER_DEBUG", None) if "DOSSIER_DEBUG" not in (env or {}) else None
        for k, v in (env or {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        sys.stdin = io.StringIO(input or "")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
    finally:
        sys.stdin = saved_stdin
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, out.getvalue(), err.getvalue()


def state_of(case: Case, at: date = AT, rates=None, journal=None):
    """The case snapshot of an in-memory case (its journal read from ``case.root`` unless
    ``journal`` is given), as :func:`dossier.snapshot.open_case` builds it from a folder."""
    from dossier.journal import read_journal
    from dossier.snapshot import build_state

    if rates is None:
        from dossier.law.rates import load_rates

        rates = load_rates(user_file=False)
    entries = read_journal(case) if journal is None else tuple(journal)
    return build_state(case, at, rates, entries)


def cli(*args, cwd=None, env=None, input: str | None = None) -> subprocess.CompletedProcess:
    """:func:`invoke` with :func:`run_cli`'s answer (``returncode``, ``stdout``,
    ``stderr``): the CLI in-process, in ``cwd`` when given. The end-to-end tests keep
    :func:`run_cli` (a real process); the others use this, which is much faster."""
    old = os.getcwd()
    env = dict(env or {})
    env.setdefault("DOSSIER_RATES_FILE", os.environ.get("DOSSIER_RATES_FILE") or str(Path(cwd or ROOT) / "no-user-rates.csv"))
    try:
        if cwd is not None:
            os.chdir(cwd)
        code, out, err = invoke(*args, env=env, input=input)
    finally:
        os.chdir(old)
    return subprocess.CompletedProcess([str(a) for a in args], code, out, err)


# --------------------------------------------------------------------------- portfolios

PORTFOLIO_YAML = """\
creditor:
  name: Atelier Martin
  legal_form: SARL
  capital: "10000"
  siren: "732829320"
  rcs_city: Lyon
  address: {lines: ["12 rue de la Paix"], postal_code: "69002", city: Lyon, country: FR}
  email: comptabilite@atelier-martin.example
  signatory: {name: Claire Martin, title: Gérante}
  bank: {iban: FR7630006000011234567890189, bic: AGRIFRPP}
terms: {payment_days: 30, flat_indemnity: true}
"""

#: (due date, notices already sent) -> the stage due on 2026-06-15
PORTFOLIO_STAGES = [
    ("2026-06-20", ()),  # rappel-preventif (due - 5 = 06-15)
    ("2026-06-10", ()),  # relance-1
    ("2026-05-30", (("relance-1", "2026-05-31", "email"),)),  # relance-2
    ("2026-05-10", (("relance-1", "2026-05-11", "email"), ("relance-2", "2026-05-18", "email"))),  # échéancier
    ("2026-04-10", (("relance-1", "2026-04-11", "email"), ("relance-2", "2026-04-18", "email"),
                    ("echeancier", "2026-04-25", "email"))),  # dernier avis
    ("2026-03-10", (("relance-1", "2026-03-11", "email"), ("relance-2", "2026-03-18", "email"),
                    ("dernier-avis", "2026-04-20", "email"))),  # mise en demeure (LRAR)
]
PLACES = [("75011", "Paris"), ("69003", "Lyon"), ("13008", "Marseille"), ("33000", "Bordeaux"), ("59000", "Lille"),
          ("38000", "Grenoble"), ("06000", "Nice"), ("44000", "Nantes"), ("67000", "Strasbourg"), ("20000", "Ajaccio"),
          ("97400", "Saint-Denis")]


def make_portfolio(root: Path, n: int = 54, *, no_email_every: int = 5) -> Path:
    """A portfolio of ``n`` cases sharing one portfolio.yaml: varied debtors, postcodes and
    stages (every letter stage), one debtor in ``no_email_every`` without an email address
    (paper letters). Case ``k`` is ``C{k:03d}``; its debtor's address ``c{k:03d}@debiteur.example``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "portfolio.yaml").write_text(PORTFOLIO_YAML, encoding="utf-8")
    for k in range(n):
        due, notices = PORTFOLIO_STAGES[k % len(PORTFOLIO_STAGES)]
        postcode, city = PLACES[k % len(PLACES)]
        ref = f"C{k:03d}"
        folder = root / ref
        (folder / "pieces").mkdir(parents=True, exist_ok=True)
        inv = f"F-{k:03d}"
        pdf = PdfWriter()
        pdf.add_blank_page(595, 842)
        with open(folder / "pieces" / f"{inv}.pdf", "wb") as f:
            pdf.write(f)
        issued = (date.fromisoformat(due) - timedelta(days=30)).isoformat()
        email = "" if k % no_email_every == no_email_every - 1 else f"  email: c{k:03d}@debiteur.example\n"
        lines = [
            f"reference: {ref}",
            "debtor:",
            "  kind: company",
            f"  name: Client {k:03d} SARL",
            "  legal_form: SARL",
            f"  address: {{lines: [\"{k + 1} rue du Commerce\"], postal_code: \"{postcode}\", city: {city}, country: FR}}",
        ]
        text = "\n".join(lines) + "\n" + email + (
            "invoices:\n"
            f"  - {{number: {inv}, issued: {issued}, due: {due}, amount_excl_tax: \"{1000 + 10 * k}.00\", "
            f"amount_incl_tax: \"{1200 + 12 * k}.00\", file: pieces/{inv}.pdf}}\n")
        if notices:
            text += "notices:\n" + "".join(f"  - {{stage: {s}, date: {d}, channel: {c}}}\n" for s, d, c in notices)
        (folder / "case.yaml").write_text(text, encoding="utf-8")
    return root


def free_port() -> int:
    """A TCP port free on loopback now (for a test server)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
