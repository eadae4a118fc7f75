import json

from helpers import ROOT, SAMPLES, run_cli


def test_help_lists_every_command_and_readme_documents_them():
    proc = run_cli("--help")
    assert proc.returncode == 0
    from dossier.cli import COMMANDS

    readme = (ROOT / "README.md").read_text()
    for name in COMMANDS:
        assert f"  {name} " in proc.stdout
        assert f"dossier {name}" in readme, f"README does not document `dossier {name}`"


def test_compute_json_matches_design_shape():
    proc = run_cli("compute", SAMPLES / "studio-graphique", "--at", "2026-06-15", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    for key in ("as_of", "currency", "principal", "paid", "outstanding", "penalties", "indemnities", "total", "invoices"):
        assert key in data
    inv = data["invoices"][0]
    for key in ("number", "due_date", "outstanding", "penalties", "indemnity", "periods"):
        assert key in inv
    for p in inv["periods"]:
        assert set(p) >= {"start", "end", "days", "base", "rate", "amount"}
        assert isinstance(p["days"], int) and p["amount"].count(".") == 1 and len(p["amount"].split(".")[1]) == 2


def test_compute_table_is_readable():
    proc = run_cli("compute", SAMPLES / "studio-graphique", "--at", "2026-06-15")
    assert proc.returncode == 0, proc.stderr
    assert "TOTAL" in proc.stdout and "C. com. art. L441-10" in proc.stdout


def test_compute_past_the_tables_names_the_missing_rate():
    proc = run_cli("compute", SAMPLES / "studio-graphique", "--at", "2026-09-01")
    assert proc.returncode == 2
    assert "dossier rates add 2026-2" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_date_option():
    proc = run_cli("compute", SAMPLES / "studio-graphique", "--at", "2026-02-30")
    assert proc.returncode == 2 and "not a real date" in proc.stderr


def test_every_case_file_key_is_documented():
    from dossier import casefile

    doc = (ROOT / "docs" / "case-file.md").read_text()
    specs = [casefile.CASE, casefile.CREDITOR, casefile.DEBTOR, casefile.TERMS, casefile.INVOICE,
             casefile.PAYMENT, casefile.CREDIT_NOTE, casefile.EXHIBIT, casefile.NOTICE, casefile.ADDRESS, casefile.BANK]
    missing = sorted({k for spec in specs for k in spec if f"`{k}`" not in doc and f"{k}," not in doc and f"{{{k}" not in doc and f" {k}}}" not in doc})
    assert missing == []
