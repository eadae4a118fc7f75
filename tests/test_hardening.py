"""A case folder is untrusted input: paths stay inside it, templates cannot run code, a run's
documents appear together or not at all, and every bad input is exit 2 naming the file
and field (or the option) — never exit 1, never a traceback."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import time
import zipfile
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from dossier import journal
from dossier.errors import EvidenceError, JournalError, TemplateError

from helpers import (
    AT,
    DEMO_DATE,
    SAMPLES,
    invoke,
    make_case,
    pdf_text,
    sample_copy,
    state_of,  # noqa: E402
)

SECRET = "SECRET-OF-ANOTHER-CLIENT"


def _case_yaml(case: Path) -> str:
    return (case / "case.yaml").read_text(encoding="utf-8")


def _set_yaml(case: Path, old: str, new: str) -> None:
    text = _case_yaml(case)
    assert old in text, old
    (case / "case.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")


def _bad_input(code: int, out: str, err: str) -> None:
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err and "internal error" not in err


@pytest.fixture
def case(tmp_path) -> Path:
    return sample_copy("atelier-martin", tmp_path)


@pytest.fixture
def outside(tmp_path) -> Path:
    """Another client's case, next to ours."""
    other = tmp_path / "cases" / "other-client" / "pieces"
    other.mkdir(parents=True)
    (other / "secret.pdf").write_bytes(b"%PDF-1.4\n" + SECRET.encode() + b"\n%%EOF\n")
    return other / "secret.pdf"


# --------------------------------------------------------------------------- 1. paths


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink", "proc"])
def test_check_refuses_an_exhibit_outside_the_case_folder(case, outside, how):
    old = "file: pieces/cgv-atelier-martin.pdf"
    if how == "absolute":
        new = f"file: {outside}"
    elif how == "dotdot":
        new = "file: ../other-client/pieces/secret.pdf"
    elif how == "proc":
        new = "file: /proc/self/environ"
    else:
        (case / "pieces" / "link.pdf").symlink_to(outside)
        new = "file: pieces/link.pdf"
    _set_yaml(case, old, new)
    code, out, err = invoke("check", case, "--at", DEMO_DATE)
    _bad_input(code, out, err)
    line = _line_of(case, "kind: cgv")  # the sample's third exhibit
    assert f"case.yaml:{line}: exhibits[2].file:" in err and "outside the case folder" in err


def test_relance_email_never_attaches_a_file_outside_the_case(tmp_path, outside, rates):
    """Defence at the point of use: a Case built without `check` (library use) still cannot
    mail another client's file, nor /proc/self/environ (the SMTP password) to the debtor."""
    from dossier.letters import render_stage

    c = make_case(tmp_path / "cases" / "ours")
    for target in (outside, Path("/proc/self/environ")):
        bad = dataclasses.replace(c, exhibits=(dataclasses.replace(c.exhibits[0], file=target),))
        with pytest.raises(EvidenceError, match="outside the case folder"):
            render_stage(state_of(bad, AT, rates, journal=()), "relance-1", formats=("eml",))


def test_non_regular_files_are_refused_before_being_opened(case):
    """A FIFO would block the reader forever, a device never ends: named as such."""
    os.mkfifo(case / "pieces" / "pipe.pdf")
    os.symlink("/dev/zero", case / "pieces" / "zero.pdf")  # outside, and a device
    (case / "pieces" / "folder.pdf").mkdir()
    _set_yaml(case, "file: pieces/cgv-atelier-martin.pdf", "file: pieces/pipe.pdf")
    _set_yaml(case, "file: pieces/BL-2025-041.pdf", "file: pieces/folder.pdf")
    _set_yaml(case, "file: pieces/AV2026-001.pdf", "file: pieces/zero.pdf")
    code, out, err = _within(10, invoke, "check", case, "--at", DEMO_DATE)
    _bad_input(code, out, err)
    assert "exhibits[2].file: pieces/pipe.pdf: a named pipe (FIFO), not a file" in err
    assert "exhibits[3].file: pieces/folder.pdf: a folder, not a file" in err
    assert "credit_notes[0].file: pieces/zero.pdf: outside the case folder" in err


def test_journal_paths_stay_inside_the_case(case, outside):
    """journal.jsonl is case input too: a "sent" entry naming another file is refused by
    every reader of it (the ladder, the dossier) and never hashed by verify."""
    line = {"stage": "relance-2", "date": "2026-03-01", "channel": "email", "status": "sent",
            "files": [{"path": str(outside), "sha256": "0" * 64}]}
    (case / "journal.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(JournalError, match=r"journal.jsonl:1: files\[0\].path: outside the case folder"):
        journal.as_notices(case)
    assert any("outside the case folder" in p for p in journal.verify(case))
    code, out, err = invoke("compute", case, "--at", DEMO_DATE)
    _bad_input(code, out, err)
    assert "journal.jsonl:1: files[0].path" in err


def test_sent_documents_are_written_inside_the_case(case, tmp_path):
    """The journal only reads sent files back from the case folder: a letter marked as sent
    cannot be written elsewhere (its journal entry would be refused afterwards)."""
    code, out, err = invoke("letter", "mise-en-demeure", case, "--at", DEMO_DATE, "--format", "pdf",
                            "--mark-sent", "-o", tmp_path / "elsewhere")
    _bad_input(code, out, err)
    assert "-o" in err and "inside the case folder" in err
    assert not (tmp_path / "elsewhere").exists() and not (case / "journal.jsonl").exists()


@pytest.mark.parametrize("field,value,message", [
    ("date", "9999-12-31", "date: 9999-12-31 is outside the dates"),
    ("date", "20260605", "date: '20260605' is not a date"),
    ("amount", "NaN", "amount: 'NaN' is not an amount"),
    ("note", "ok\u001b]0;pwned\u0007", "note: "),
])
def test_journal_values_are_checked_like_the_case_file(case, field, value, message):
    line = {"stage": "mise-en-demeure", "date": "2026-06-01", "channel": "lrar", "status": "sent", "files": []}
    line[field] = value
    (case / "journal.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    code, out, err = invoke("compute", case, "--at", DEMO_DATE)
    _bad_input(code, out, err)
    assert f"journal.jsonl:1: {message}" in err and "\x1b" not in err


def test_journal_that_is_a_folder_or_a_link_elsewhere(case, tmp_path):
    (case / "journal.jsonl").mkdir()
    code, out, err = invoke("plan", case, "--at", DEMO_DATE)
    assert code == 2 and "journal.jsonl: the journal is a folder" in out + err
    (case / "journal.jsonl").rmdir()
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_text("")
    (case / "journal.jsonl").symlink_to(elsewhere)
    code, out, err = invoke("letter", "relance-1", case, "--at", DEMO_DATE, "--format", "pdf")
    _bad_input(code, out, err)
    assert elsewhere.read_text() == ""  # nothing appended outside the case


# --------------------------------------------------------------------------- 2. templates


HOSTILE = "<p>{{ cycler.__init__.__globals__.os.popen('echo PWNED').read() }}</p>\n"


def test_a_template_cannot_run_code(case):
    tpl = case / "my-templates" / "letters"
    tpl.mkdir(parents=True)
    (tpl / "relance-1.html").write_text("<p>Bonjour</p>\n" + HOSTILE, encoding="utf-8")
    _set_yaml(case, "terms:", "templates: my-templates\nterms:")
    code, out, err = invoke("letter", "relance-1", case, "--at", DEMO_DATE, "--format", "pdf", "-o", case / "out")
    _bad_input(code, out, err)
    assert f"{tpl / 'relance-1.html'}:2:" in err and "unsafe" in err
    assert not (case / "out" / "relance-1.pdf").exists()


def test_a_docx_template_cannot_run_code(case):
    from dossier.render.templates import SHIPPED_DIR

    with zipfile.ZipFile(SHIPPED_DIR / "letters" / "letter.docx") as src:
        entries = {i.filename: src.read(i.filename) for i in src.infolist()}
    xml = entries["word/document.xml"].decode("utf-8")
    assert "{{ reference }}" in xml
    entries["word/document.xml"] = xml.replace(
        "{{ reference }}", "{{ cycler.__init__.__globals__.os.getcwd() }}").encode("utf-8")
    tpl = case / "my-templates" / "letters"
    tpl.mkdir(parents=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for name, data in entries.items():
            dst.writestr(name, data)
    (tpl / "relance-1.docx").write_bytes(buf.getvalue())
    _set_yaml(case, "terms:", "templates: my-templates\nterms:")
    code, out, err = invoke("letter", "relance-1", case, "--at", DEMO_DATE, "--format", "docx", "-o", case / "out")
    _bad_input(code, out, err)
    assert "relance-1.docx" in err and "unsafe" in err


def test_a_template_cannot_embed_or_fetch_files_outside(case, outside):
    """WeasyPrint would read any URL a template names (an image, a stylesheet, a PDF
    attachment): only data: URLs and the templates' own files are read."""
    from pypdf import PdfReader

    tpl = case / "my-templates" / "letters"
    tpl.mkdir(parents=True)
    (tpl / "relance-1.html").write_text(
        "<p>Bonjour</p>\n"
        f'<link rel="attachment" href="file://{outside}">\n'
        '<link rel="attachment" href="file:///proc/self/environ">\n'
        '<link rel="stylesheet" href="../../other-client/pieces/secret.pdf">\n'
        f'<img src="file://{outside}"><img src="http://127.0.0.1:9/beacon.png">\n', encoding="utf-8")
    _set_yaml(case, "terms:", "templates: my-templates\nterms:")
    code, out, err = invoke("letter", "relance-1", case, "--at", DEMO_DATE, "--format", "pdf", "-o", case / "out")
    assert code == 0, err
    data = (case / "out" / "relance-1.pdf").read_bytes()
    assert SECRET.encode() not in data and b"PATH=" not in data
    assert not PdfReader(io.BytesIO(data)).attachments
    assert "Bonjour" in pdf_text(data)


def test_template_folders_stay_inside_the_case_or_portfolio(case, tmp_path):
    far = tmp_path / "far-away"
    (far / "letters").mkdir(parents=True)
    _set_yaml(case, "terms:", f"templates: {far}\nterms:")
    code, out, err = invoke("check", case, "--at", DEMO_DATE)
    _bad_input(code, out, err)
    assert "templates: " in err and "outside the case folder or its portfolio folder" in err
    # --templates too
    _set_yaml(case, f"templates: {far}\n", "")
    code, out, err = invoke("letter", "relance-1", case, "--at", DEMO_DATE, "--format", "pdf", "--templates", far)
    _bad_input(code, out, err)
    # and a template file that is a link out of its folder
    own = case / "my-templates" / "letters"
    own.mkdir(parents=True)
    (far / "letters" / "relance-1.html").write_text("<p>SECRET</p>")
    (own / "relance-1.html").symlink_to(far / "letters" / "relance-1.html")
    with pytest.raises(TemplateError, match="outside the templates folder"):
        from dossier.render.templates import render

        render("letters/relance-1.html", {}, [case / "my-templates"])


def test_compiled_template_cache_never_skips_the_sandbox(tmp_path, monkeypatch):
    """Code compiled without the sandbox (an older version) in the cache folder is never
    loaded: the sandboxed entries have their own names, and the cache still works."""
    import jinja2

    from dossier.render import templates

    cache = tmp_path / "cache"
    (cache / "jinja").mkdir(parents=True)
    monkeypatch.setenv("DOSSIER_CACHE_DIR", str(cache))
    monkeypatch.setattr(templates, "_envs", {})
    tpl = tmp_path / "tpl"
    (tpl / "letters").mkdir(parents=True)
    (tpl / "letters" / "x.html").write_text("{{ cycler.__init__.__globals__.os.getcwd() }}")
    plain = jinja2.Environment(loader=jinja2.FileSystemLoader([str(tpl.resolve())]),
                               bytecode_cache=jinja2.FileSystemBytecodeCache(str(cache / "jinja")))
    assert plain.get_template("letters/x.html").render() == os.getcwd()
    with pytest.raises(TemplateError, match="unsafe"):
        templates.render("letters/x.html", {}, [tpl])
    (tpl / "letters" / "ok.html").write_text("{{ 1200 | money }}")
    assert templates.render("letters/ok.html", {}, [tpl]) == "1\u00a0200,00\u00a0€"
    assert list((cache / "jinja").glob("__dossier_sandbox_*.cache"))


# --------------------------------------------------------------------------- 3. outputs


def test_a_letter_s_documents_appear_together_or_not_at_all(case):
    out = case / "out"
    (out / "relance-1.docx").mkdir(parents=True)  # the DOCX cannot be written
    stale = out / ".relance-1.pdf.999999999.tmp"  # left by a killed run
    stale.write_bytes(b"half a PDF")
    code, o, err = invoke("letter", "relance-1", case, "--at", DEMO_DATE, "-o", out)
    _bad_input(code, o, err)
    assert "relance-1.docx: is a folder, not a file" in err
    assert not (out / "relance-1.pdf").exists() and not (out / "relance-1.eml").exists()
    assert not stale.exists()
    assert not (case / "journal.jsonl").exists()
    (out / "relance-1.docx").rmdir()
    code, o, err = invoke("letter", "relance-1", case, "--at", DEMO_DATE, "-o", out)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["relance-1.docx", "relance-1.eml", "relance-1.pdf"]


def test_write_set_failure_leaves_previous_documents_and_no_temporary_file(tmp_path, monkeypatch):
    from dossier import outputs

    a, b = tmp_path / "a.pdf", tmp_path / "b.docx"
    a.write_bytes(b"old a")
    real = outputs._write_temp

    def failing(path, data):
        if path == b:
            raise outputs.OutputError(f"{path}: cannot write the file (No space left on device)")
        return real(path, data)

    monkeypatch.setattr(outputs, "_write_temp", failing)
    with pytest.raises(outputs.OutputError, match="No space left"):
        outputs.write_set({a: b"new a", b: b"new b"})
    assert a.read_bytes() == b"old a" and not b.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["a.pdf"]


def test_outputs_never_replace_devices_sockets_or_the_case_s_evidence(case, tmp_path):
    import socket

    fifo = tmp_path / "fifo.pdf"
    os.mkfifo(fifo)
    code, out, err = invoke("bundle", case, "--at", DEMO_DATE, "-o", fifo)
    _bad_input(code, out, err)
    assert f"{fifo}: is a named pipe (FIFO), not a file" in err and fifo.is_fifo()
    sock_path = tmp_path / "s.pdf"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sock_path))
        code, out, err = invoke("bundle", case, "--at", DEMO_DATE, "-o", sock_path)
    _bad_input(code, out, err)
    assert "is a socket" in err
    code, out, err = invoke("letter", "relance-1", case, "--at", DEMO_DATE, "--format", "pdf", "-o", fifo)
    _bad_input(code, out, err)
    assert f"{fifo}: is a named pipe (FIFO), not a folder" in err
    # -o into the evidence folder: relance-1.eml there is the notice already sent
    before = (case / "pieces" / "relance-1.eml").read_bytes()
    code, out, err = invoke("letter", "relance-1", case, "--at", DEMO_DATE, "-o", case / "pieces")
    _bad_input(code, out, err)
    assert "relance-1.eml: is a file of the case" in err
    assert (case / "pieces" / "relance-1.eml").read_bytes() == before
    assert not (case / "pieces" / "relance-1.pdf").exists()


def test_out_folder_linked_outside_the_case_is_refused(case, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (case / "out").symlink_to(elsewhere)
    code, out, err = invoke("letter", "relance-1", case, "--at", DEMO_DATE, "--format", "pdf")
    _bad_input(code, out, err)
    assert "leads outside the case folder" in err and not list(elsewhere.iterdir())


# --------------------------------------------------------------------------- 4. exit 2


CASE_EDITS = [
    # (old, new, field named in the message)
    ('amount_incl_tax: "3840.00"', 'amount_incl_tax: "1e30"', "invoices[0].amount_incl_tax"),
    ('capital: "10000"', 'capital: "NaN"', "creditor.capital"),
    ("due: 2025-12-14", "due: 9999-12-31", "invoices[0].due"),
    ("due: 2025-12-14", 'due: "20251214"', "invoices[0].due"),
    ("issued: 2025-11-14", "issued: 2025-11-14T10:00:00", "invoices[0].issued"),
    ("name: Maison Vercors", 'name: "Maison Vercors\\r\\nBcc: everyone@example.com"', "debtor.name"),
    ("number: F2025-087", 'number: "F2025\\n087"', "invoices[0].number"),
    ("reference: AM-2026-003", 'reference: "AM-2026\\u0000-003"', "reference"),
    ("name: Maison Vercors", 'name: "Maison \\u202eVercors"', "debtor.name"),
    ("date: 2026-01-20, amount: \"2000.00\"", "date: 2025-01-20, amount: \"2000.00\"", "payments[0].date"),
    ("payment_days: 30", "payment_days: 1_0", "terms.payment_days"),
    ("terms:", "ladder: {relance-1: 99999999}\nterms:", "ladder.relance-1"),
    ("terms:", 'envelope_window: "nan,110,85,33"\nterms:', "envelope_window"),
    ("payment_link: https://pay.example/atelier-martin/AM-2026-003", "payment_link: javascript:alert(1)",
     "creditor.payment_link"),
    ("promised_date: 2026-03-10", "promised_date: 9999-12-31", "notices[1].promised_date"),
    ("email: compta@maison-vercors.example", 'email: "compta@maison-vercors.example, all@example.com"', "debtor.email"),
    ("terms:", "templates: " + "x" * 1000 + "\nterms:", "templates"),  # a name too long for the system
    ("file: pieces/cgv-atelier-martin.pdf", "file: pieces/" + "a" * 400 + ".pdf", "exhibits[2].file"),
]


@pytest.mark.parametrize("old,new,field", CASE_EDITS, ids=[f"{e[2]}:{e[1][:20]}" for e in CASE_EDITS])
def test_bad_case_values_are_exit_2_naming_the_field(case, old, new, field):
    _set_yaml(case, old, new)
    for command in (("check",), ("compute",), ("letter", "relance-1")):
        args = [*command, case, "--at", DEMO_DATE] + (["--format", "pdf", "-o", case / "out"] if command[0] == "letter" else [])
        code, out, err = invoke(*args)
        _bad_input(code, out, err)
        if field:
            assert "case.yaml:" in err and f" {field}: " in err, err


def test_a_claim_too_large_to_write_in_words_is_bad_input(case):
    """One invoice under the limit, but with penalties the total no longer fits in words:
    the letter stops with exit 2 (it was an internal error), nothing written."""
    _set_yaml(case, 'amount_excl_tax: "3200.00", amount_incl_tax: "3840.00"', 'amount_incl_tax: "999000000.00"')
    assert invoke("check", case, "--at", DEMO_DATE)[0] == 0
    code, out, err = invoke("letter", "mise-en-demeure", case, "--at", DEMO_DATE, "--format", "pdf", "-o", case / "out")
    _bad_input(code, out, err)
    assert "999 999 999,99" in err and not (case / "out").exists()
    _set_yaml(case, 'amount_excl_tax: "5450.00", amount_incl_tax: "6540.00"', 'amount_incl_tax: "999000000.00"')
    code, out, err = invoke("check", case, "--at", DEMO_DATE)
    _bad_input(code, out, err)
    assert f"case.yaml:{_line_of(case, 'number: F2025-087')}: invoices: 1998002250.00 invoiced in all" in err


def test_line_breaks_never_reach_an_email_header(case):
    """The control-character check is what keeps a crafted name out of the headers."""
    _set_yaml(case, "name: Maison Vercors", 'name: "Maison Vercors\\nBcc: everyone@example.com"')
    code, out, err = invoke("letter", "relance-1", case, "--at", DEMO_DATE, "--format", "eml", "-o", case / "out")
    _bad_input(code, out, err)
    assert "debtor.name" in err and "line break" in err
    assert not (case / "out").exists()


def test_a_folder_name_standing_in_for_the_reference_is_checked_too(tmp_path):
    """Without `reference:`, the folder's name is the reference (email subject, headers):
    an imported folder named with a line break is refused like the value would be."""
    case = tmp_path / "ACME\nBcc: everyone@example.com"
    shutil.copytree(SAMPLES / "atelier-martin", case, ignore=shutil.ignore_patterns("out", "journal.jsonl"))
    _set_yaml(case, "reference: AM-2026-003\n", "")
    code, out, err = invoke("check", case, "--at", DEMO_DATE)
    _bad_input(code, out, err)
    assert "reference: the case folder's name is used as reference" in err and "line break" in err


OPTION_CASES = [
    (["compute", "{case}", "--at", "9999-12-31"], "--at"),
    (["compute", "{case}", "--at", "2026-6-15"], "--at"),
    (["letter", "echeancier", "{case}", "--at", DEMO_DATE, "--format", "pdf", "--plan-rate", "nan"], "--plan-rate"),
    (["letter", "echeancier", "{case}", "--at", DEMO_DATE, "--format", "pdf", "--plan-rate", "-4"], "--plan-rate"),
    (["letter", "echeancier", "{case}", "--at", DEMO_DATE, "--format", "pdf", "--first-instalment", "2025-01-31"],
     "--first-instalment"),
    (["letter", "mise-en-demeure", "{case}", "--at", DEMO_DATE, "--format", "pdf", "--lrar", "1A\nBcc: x"], "--lrar"),
    (["letter", "relance-1", "{case}", "--at", DEMO_DATE, "--window", "nan,1,1,1"], "--window"),
    (["rates", "add", "2026-2", "--ecb", "nan", "--source", "x", "--file", "{tmp}/r.csv"], "--ecb"),
    (["rates", "add", "2026-2", "--ecb", "2", "--source", "a\nb", "--file", "{tmp}/r.csv"], "--source"),
    (["rates", "import-ecb", "{tmp}/binary.csv", "--file", "{tmp}/r.csv"], "CSV_FILE"),
    (["demo", "--at", "2026-13-01", "-o", "{tmp}/demo"], "--at"),
]


@pytest.mark.parametrize("args,option", OPTION_CASES, ids=[f"{o}-{n}" for n, (_, o) in enumerate(OPTION_CASES)])
def test_bad_options_are_exit_2_naming_the_option(case, tmp_path, args, option):
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x01")
    code, out, err = invoke(*[a.format(case=case, tmp=tmp_path) for a in args])
    _bad_input(code, out, err)
    assert option in err, err
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize("variable", ["DOSSIER_RATES_FILE", "DOSSIER_SMTP_CONFIG"])
@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_environment_files_of_the_wrong_kind_are_exit_2(case, tmp_path, variable, kind):
    target = tmp_path / "target"
    target.mkdir() if kind == "folder" else os.mkfifo(target)
    args = ("compute", case, "--at", DEMO_DATE) if variable == "DOSSIER_RATES_FILE" else \
        ("letter", "relance-1", case, "--at", DEMO_DATE, "--send")
    code, out, err = _within(30, invoke, *args, env={variable: str(target)})  # opening a FIFO would hang
    _bad_input(code, out, err)
    assert str(target) in err and ("folder" in err or "FIFO" in err)


def test_rates_add_never_blocks_on_a_fifo(tmp_path):
    fifo = tmp_path / "rates.csv"
    os.mkfifo(fifo)
    for args, env in ((("--file", fifo), {}), ((), {"DOSSIER_RATES_FILE": str(fifo)})):
        code, out, err = _within(30, invoke, "rates", "add", "2026-2", "--ecb", "2", "--source", "x", *args, env=env)
        _bad_input(code, out, err)
        assert f"{fifo}: cannot add rows" in err and "FIFO" in err


@pytest.mark.parametrize("variable,value", [("DOSSIER_SMTP_TIMEOUT", "nan"), ("DOSSIER_SMTP_TIMEOUT", "soon"),
                                            ("DOSSIER_SMTP_PORT", "0"), ("DOSSIER_SMTP_PORT", "70000")])
def test_smtp_environment_values_are_checked_before_anything_is_written(case, variable, value):
    env = {"DOSSIER_SMTP_HOST": "localhost", "DOSSIER_SMTP_CONFIG": str(case / "none.toml"), variable: value}
    code, out, err = invoke("letter", "relance-1", case, "--at", DEMO_DATE, "--send", env=env)
    _bad_input(code, out, err)
    assert variable.rsplit("_", 1)[1].lower() in err.lower() and repr(value) in err
    assert not (case / "out").exists() and not (case / "journal.jsonl").exists()


def _within(seconds: int, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, failing the test (not hanging it) after ``seconds``."""
    import signal

    def hung(*_):
        raise TimeoutError(f"still running after {seconds} s (blocked on a FIFO?)")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        return fn(*args, **kwargs)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_evidence_email_in_unknown_8bit(tmp_path, rates):
    """Mail programs write `unknown-8bit` for bytes they could not label: the email is
    still evidence, read as UTF-8 or Windows-1252, not an internal error."""
    from dossier.bundle.assemble import email_renderer
    from dossier.bundle.exhibits import ExhibitSpec, load_exhibit

    c = make_case(tmp_path / "case")
    raw = (b"From: Maison Vercors <compta@maison-vercors.example>\r\nTo: a@b.example\r\n"
           b"Subject: =?unknown-8bit?q?R=E9ponse?=\r\nDate: Mon, 5 Jan 2026 10:00:00 +0100\r\n"
           b"Content-Type: text/plain; charset=\"unknown-8bit\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           b"Nous r\xe9glerons la facture F2025-087 fin janvier.\r\n")
    (c.root / "pieces" / "reponse.eml").write_bytes(raw)
    assert BytesParser(policy=policy.default).parsebytes(raw).get_content_charset() == "unknown-8bit"
    ex = load_exhibit(ExhibitSpec("correspondance", "Réponse", c.root / "pieces" / "reponse.eml", "exhibits[0].file"),
                      email_renderer=email_renderer(c, AT))
    text = pdf_text(_pages_pdf(ex))
    assert "réglerons la facture F2025-087" in text


def _pages_pdf(ex) -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    for p in ex.pages:
        w.add_page(p.reader.pages[p.index])
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def _time_check(root: Path, n: int) -> float:
    """Seconds to check the sample with ``n`` invoices, each with a payment and a credit note."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(SAMPLES / "atelier-martin", root, ignore=shutil.ignore_patterns("out", "journal.jsonl"))
    text = _case_yaml(root)
    head = text[: text.index("invoices:")]
    inv = "".join(f'  - {{number: F{k}, issued: 2025-11-14, due: 2025-12-14, amount_incl_tax: "100.00"}}\n'
                  for k in range(n))
    pay = "".join(f'  - {{date: 2026-01-20, amount: "10.00", invoice: F{k}}}\n' for k in range(n))
    cred = "".join(f'  - {{number: A{k}, date: 2026-01-20, amount: "1.00", invoice: F{k}}}\n' for k in range(n))
    (root / "case.yaml").write_text(head + "invoices:\n" + inv + "payments:\n" + pay + "credit_notes:\n" + cred,
                                    encoding="utf-8")
    start = time.monotonic()
    code, out, err = invoke("check", root, "--at", DEMO_DATE)
    elapsed = time.monotonic() - start
    assert code == 0, err
    assert f"{n} invoice(s)" in out
    return elapsed


def test_check_stays_linear_in_invoices_and_payments(tmp_path):
    """Five times the invoices (each with a payment and a credit note) take about five
    times as long, not twenty-five: no step compares every invoice with every payment.
    (Measured on 2 busy cores: 10,000 invoices ~1.5 s now, ~18 s with the former
    quadratic sums.)"""
    small = min(_time_check(tmp_path / "small", 2000) for _ in range(3))
    big = _time_check(tmp_path / "big", 10000)
    assert big / small < 12, (small, big)


def _line_of(case: Path, text: str) -> int:
    """The 1-based line of case.yaml where ``text`` first appears."""
    lines = (case / "case.yaml").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)
