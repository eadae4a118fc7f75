"""The daily batch over a portfolio (``dossier run``) against a real SMTP server on loopback:
the plan equals ``dossier plan``, every due email is delivered exactly once, each debtor
gets only its own documents, paper letters land in one print job, and nothing is sent
twice whatever happens to the server or the run."""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import sys
import threading
import time
from email import policy

import pytest

from dossier import journal
from dossier.mail import SmtpConfig

from helpers import (
    DEMO_DATE,
    ROOT,
    free_port,  # noqa: E402
    invoke,
    make_portfolio,
)

N = 54


class Mailbox:
    """aiosmtpd handler: refuses the recipients in ``refuse`` (550), drops the connection
    during DATA for those in ``drop``, and keeps every accepted message."""

    def __init__(self, refuse=(), drop=(), delay: float = 0.0):
        self.refuse, self.drop, self.delay = set(refuse), set(drop), delay
        self.messages: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.delay:
            await asyncio.sleep(self.delay)
        rcpt = envelope.rcpt_tos[0]
        with self.lock:
            self.messages.append((rcpt, envelope.original_content))
        if rcpt in self.drop:
            server.transport.close()
            return "250 OK"
        return "250 2.0.0 queued"

    def received(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for rcpt, _ in self.messages:
            out[rcpt] = out.get(rcpt, 0) + 1
        return out


_port = free_port


@pytest.fixture
def server():
    from aiosmtpd.controller import Controller

    started = []

    def start(box: Mailbox, port: int | None = None):
        port = port or _port()
        ctl = Controller(box, hostname="127.0.0.1", port=port)
        ctl.start()
        started.append(ctl)
        return port

    yield start
    for ctl in started:
        ctl.stop()


def env_for(port: int) -> dict[str, str]:
    return {"DOSSIER_SMTP_HOST": "127.0.0.1", "DOSSIER_SMTP_PORT": str(port), "DOSSIER_SMTP_SECURITY": "none",
            "DOSSIER_SMTP_TIMEOUT": "5"}


@pytest.fixture(scope="module")
def portfolio_template(tmp_path_factory):
    return make_portfolio(tmp_path_factory.mktemp("pf") / "portfolio", N)


@pytest.fixture
def portfolio(tmp_path, portfolio_template):
    """The 54-case portfolio."""
    import shutil

    dst = tmp_path / "portfolio"
    shutil.copytree(portfolio_template, dst)
    return dst


@pytest.fixture
def small(tmp_path):
    """A 12-case portfolio (every stage twice), for the failure cases."""
    return make_portfolio(tmp_path / "small", 12)


def _plan(portfolio) -> list[dict]:
    code, out, err = invoke("plan", portfolio, "--at", DEMO_DATE, "--json")
    assert code == 0, err
    return json.loads(out)


def _due_emails(plan: list[dict]) -> set[str]:
    return {f"c{p['case'][1:].lower()}@debiteur.example" for p in plan
            if p["channel"] in ("email", "email+phone", "email+letter")}


def _due_letters(plan: list[dict]) -> set[str]:
    return {p["case"] for p in plan if p["channel"] in ("letter", "lrar", "email+letter")}


def test_dry_run_equals_plan_and_writes_nothing(portfolio):
    before = sorted(str(p) for p in portfolio.rglob("*"))
    code, out, err = invoke("run", portfolio, "--at", DEMO_DATE, "--dry-run", "--json")
    assert code == 0, err
    dry = json.loads(out)
    keys = ("case", "stage", "due_on", "channel", "reason")
    assert [{k: d[k] for k in keys} for d in dry] == _plan(portfolio)
    # every stage of the sample portfolio is due today; a phone call is for a person to make
    assert {(d["action"], d["channel"] == "phone") for d in dry} == {("send", False), ("manual", True)}
    assert sorted(str(p) for p in portfolio.rglob("*")) == before


def test_send_delivers_exactly_the_due_emails_and_prints_the_letters(portfolio, server, tmp_path):
    box = Mailbox()
    port = server(box)
    plan = _plan(portfolio)
    code, out, err = invoke("run", portfolio, "--at", DEMO_DATE, "--send", "--yes", "--jobs", "2", env=env_for(port))
    assert code == 0, err
    assert box.received() == {a: 1 for a in _due_emails(plan)}
    # each debtor's email carries only that debtor's documents
    for rcpt, raw in box.messages:
        msg = email.message_from_bytes(raw, policy=policy.default)
        k = rcpt.split("@")[0][1:]
        assert msg["To"].addresses[0].addr_spec == rcpt
        names = [p.get_filename() for p in msg.iter_attachments()]
        invoices = [n for n in names if n.startswith("F-")]
        assert all(n == f"F-{k}.pdf" for n in invoices), (rcpt, names)
        assert f"C{k}" in msg["Subject"] or f"F-{k}" in msg.get_body(("plain",)).get_content()
    # the print job holds every due letter once, each recorded "printed"
    (job,) = [p for p in (portfolio / "batches").iterdir() if (p / "courrier" / "batch.json").is_file()]
    manifest = (job / "courrier" / "manifest.csv").read_text(encoding="utf-8")
    printed = {line.split(",")[1] for line in manifest.splitlines()[1:] if line}
    assert printed == _due_letters(plan)
    for case in printed:
        assert [e.status for e in journal.read_journal(portfolio / case) if e.status == "printed"] == ["printed"]
    assert "print job:" in out

    # a rerun sends nothing, prints nothing: the letters await deposit, the emails went
    code, out, err = invoke("run", portfolio, "--at", DEMO_DATE, "--send", "--yes", "--jobs", "1", env=env_for(port))
    assert code == 0, err
    assert box.received() == {a: 1 for a in _due_emails(plan)}
    assert len([p for p in (portfolio / "batches").iterdir() if (p / "courrier" / "batch.json").is_file()]) == 1


def test_refusals_and_a_dropped_connection_are_recorded_and_nothing_is_sent_twice(small, server):
    plan = _plan(small)
    due = sorted(_due_emails(plan))
    refused, dropped = due[0], due[1]
    box = Mailbox(refuse={refused}, drop={dropped})
    port = server(box)
    code, out, err = invoke("run", small, "--at", DEMO_DATE, "--send", "--yes", "--jobs", "1", env=env_for(port))
    assert code == 2
    assert "550" in err and "unknown" in err
    got = box.received()
    assert refused not in got and got[dropped] == 1
    assert all(got.get(a) == 1 for a in due if a != refused)
    # the refused address fixed on the server: the rerun sends it, and only it; the dropped
    # one stays "unknown" (the server may have it) and is not sent again
    box.refuse.clear()
    code, out, err = invoke("run", small, "--at", DEMO_DATE, "--send", "--yes", "--jobs", "1", env=env_for(port))
    assert code == 0, err
    got = box.received()
    assert got[refused] == 1 and got[dropped] == 1
    assert all(v == 1 for v in got.values())
    code, out, err = invoke("plan", small / f"C{dropped.split('@')[0][1:].upper()}", "--at", DEMO_DATE)
    assert "unknown" in out


def test_server_down_fails_every_email_and_a_later_run_sends_them(small, server):
    with open(small / "portfolio.yaml", "a", encoding="utf-8") as f:
        f.write("batch: {retries: 1, backoff_seconds: 0.1}\n")
    due = _due_emails(_plan(small))
    port = _port()
    code, out, err = invoke("run", small, "--at", DEMO_DATE, "--send", "--yes", "--only", "relance-1,relance-2,echeancier",
                            env={**env_for(port), "DOSSIER_SMTP_TIMEOUT": "1"})
    assert code == 2 and "not-sent" in out and "Connection refused" in err
    # two emails the server took none of: the others are not even tried, they wait
    assert err.count("not-sent: cannot connect") == 2 and err.count("not attempted") >= 1
    box = Mailbox()
    server(box, port)
    code, out, err = invoke("run", small, "--at", DEMO_DATE, "--send", "--yes", env=env_for(port))
    assert code == 0, err
    assert box.received() == {a: 1 for a in due}


def test_limit_shard_and_confirmation(portfolio, server):
    code, out, err = invoke("run", portfolio, "--at", DEMO_DATE, "--dry-run", "--json", "--limit", "5")
    sent = [d for d in json.loads(out) if d["action"] == "send"]
    assert sum(1 + (d["channel"] == "email+letter") for d in sent) <= 5 and len(sent) >= 4
    shares = []
    for i in (1, 2, 3):
        code, out, err = invoke("run", portfolio, "--at", DEMO_DATE, "--dry-run", "--json", "--shard", f"{i}/3")
        shares.append({d["case"] for d in json.loads(out)})
    assert set().union(*shares) == {p["case"] for p in _plan(portfolio)}
    assert sum(len(s) for s in shares) == N and all(shares)
    # more documents than portfolio.yaml's batch.confirm_above without --yes, and no terminal
    # to ask on: refused, nothing sent
    with open(portfolio / "portfolio.yaml", "a", encoding="utf-8") as f:
        f.write("batch: {confirm_above: 10}\n")
    box = Mailbox()
    port = server(box)
    code, out, err = invoke("run", portfolio, "--at", DEMO_DATE, "--send", env=env_for(port))
    assert code == 2 and "--yes" in err and not box.messages


def test_a_killed_run_then_a_rerun_delivers_every_email_once_and_every_letter_in_one_batch(small, server):
    """SIGKILL at random moments of a real `dossier run --send` (a slow server makes the
    kills land before, during and after DATA), then a rerun to the end."""
    import random

    plan = _plan(small)
    box = Mailbox(delay=0.05)
    port = server(box)
    env = {**os.environ, **env_for(port), "DOSSIER_RATES_FILE": str(small / "no-rates.csv")}
    rng = random.Random(7)
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "dossier.cli", "run", str(small), "--at", DEMO_DATE, "--send",
                                 "--yes", "--jobs", "2"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    code, out, err = invoke("run", small, "--at", DEMO_DATE, "--send", "--yes", "--jobs", "1", env=env_for(port))
    got = box.received()
    unknown = {p["case"] for p in _plan(small) if "unknown" in p["reason"]}
    assert all(v == 1 for v in got.values()), got  # never twice
    for addr in _due_emails(plan):
        case = f"C{addr.split('@')[0][1:].upper()}"
        assert got.get(addr) == 1 or case in unknown, (addr, err)
    # every due letter in exactly one print job
    jobs = [p for p in (small / "batches").iterdir() if (p / "courrier" / "batch.json").is_file()]
    seen: dict[str, int] = {}
    for job in jobs:
        for line in (job / "courrier" / "manifest.csv").read_text(encoding="utf-8").splitlines()[1:]:
            if line:
                seen[line.split(",")[1]] = seen.get(line.split(",")[1], 0) + 1
    assert set(seen) == _due_letters(plan) and all(v == 1 for v in seen.values()), seen
    # no partial file at a final path
    assert not [p for p in small.rglob("*") if p.name.endswith(".tmp") and not p.name.startswith(".")]
    assert SmtpConfig  # the loopback server only


def test_a_stage_the_case_asks_on_paper_goes_to_the_print_job_not_by_email(small, server):
    """``paper: [relance-1]``: the debtor has an email address, the reminder goes by post."""
    case = small / "C001"  # relance-1 due, debtor with an email address
    text = (case / "case.yaml").read_text(encoding="utf-8")
    (case / "case.yaml").write_text(text.replace("reference: C001\n", "reference: C001\npaper: [relance-1]\n"), encoding="utf-8")
    code, out, err = invoke("plan", case, "--at", DEMO_DATE, "--json")
    assert json.loads(out)[0]["channel"] == "letter"
    box = Mailbox()
    port = server(box)
    code, out, err = invoke("run", small, "--at", DEMO_DATE, "--send", "--yes", "--only", "relance-1", env=env_for(port))
    assert code == 0, err
    assert "c001@debiteur.example" not in box.received() and "c007@debiteur.example" in box.received()
    (job,) = [p for p in (small / "batches").iterdir() if (p / "courrier" / "batch.json").is_file()]
    assert ",C001,Client 001 SARL,relance-1," in (job / "courrier" / "manifest.csv").read_text(encoding="utf-8")


def test_a_run_stopped_between_the_email_and_the_print_job_prints_the_letter_next_time(small):
    """The dernier avis goes by email and by post: its email recorded sent but its letter
    never printed (a kill in between), the next run's print job holds the letter."""
    from datetime import date

    case = small / "C010"  # dernier-avis due, debtor with an email address: both ways
    journal.record(case, journal.JournalEntry("dernier-avis", date(2026, 6, 15), "email", "sent", message_id="<x@y>"))
    code, out, err = invoke("run", small, "--at", DEMO_DATE, "--dry-run", "--json")
    (c010,) = [d for d in json.loads(out) if d["case"] == "C010"]
    assert (c010["stage"], c010["channel"], c010["action"]) == ("dernier-avis", "letter", "send")
    assert "never printed" in c010["reason"]
    journal.record(case, journal.JournalEntry("dernier-avis", date(2026, 6, 15), "letter", "printed", note="print job B, letter 1"))
    code, out, err = invoke("run", small, "--at", DEMO_DATE, "--dry-run", "--json")
    (c010,) = [d for d in json.loads(out) if d["case"] == "C010"]
    assert c010["action"] != "send" and "not yet deposited" in c010["reason"]
