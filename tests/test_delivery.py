"""Email delivery that never sends twice: the case lock, the journal's delivery states and
the reusable SMTP session, against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from email import policy
from pathlib import Path

import pytest

from dossier import journal, mail
from dossier.delivery import Dispatcher
from dossier.errors import DeliveryError, JournalError
from dossier.journal import CaseLockedError, JournalEntry
from dossier.letters import write_stage
from dossier.mail import SmtpConfig

from helpers import (
    AT,
    ROOT,
    SAMPLES,
    free_port,  # noqa: E402
    make_case,
    state_of,
)

SENDER = "compta@creancier.example"
RCPT = "dupont@debiteur.example"


_port = free_port


def message(n: int = 1, body: str = "Bonjour,\r\n.ligne qui commence par un point\r\n") -> bytes:
    return mail.build_email(
        sender=("Créancier", SENDER), to=[("Dupont", RCPT)], subject=f"Relance {n}", text=body,
        when=mail.paris_morning(date(2026, 6, 15)),
    )


def entry(stage: str = "relance-1", invoices=("F1",)) -> JournalEntry:
    return JournalEntry(stage=stage, date=AT, channel="email", status="sending", recipient=RCPT, invoices=tuple(invoices), amount="100.00")


class Server:
    """aiosmtpd on loopback; ``script`` maps a DATA call number (1-based) to a reply or an
    action ("drop": close the connection without answering); the default is 250."""

    def __init__(self, script=None, *, data_delay: float = 0.0, quit_drop: bool = False, hooks=None):
        self.script = dict(script or {})
        self.data_delay = data_delay
        self.quit_drop = quit_drop
        self.hooks = hooks or {}
        self.data_calls = 0
        self.delivered: list[bytes] = []
        self.connections = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):
        if "MAIL" in self.hooks:
            self.hooks["MAIL"]()
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        with self.lock:
            self.data_calls += 1
            n = self.data_calls
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        action = self.script.get(n, "250 OK queued")
        if action == "drop":
            server.transport.close()
            with self.lock:  # the server has the message: a real MTA may deliver it
                self.delivered.append(envelope.original_content)
            return "250 OK"
        if "DATA" in self.hooks:
            self.hooks["DATA"]()
        if action.startswith("250"):
            with self.lock:
                self.delivered.append(envelope.original_content)
        return action

    async def handle_QUIT(self, server, session, envelope):
        if "QUIT" in self.hooks:
            self.hooks["QUIT"]()
        if self.quit_drop:
            server.transport.close()
        return "221 Bye"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    started = []

    def start(handler: Server) -> SmtpConfig:
        port = _port()
        ctl = Controller(handler, hostname="127.0.0.1", port=port)
        ctl.start()
        started.append(ctl)
        return SmtpConfig("127.0.0.1", port, "none", timeout=5)

    yield start
    for ctl in started:
        ctl.stop()


def statuses(root) -> list[str]:
    return [e.status for e in journal.read_journal(root)]


def no_sleep(_s: float) -> None:
    pass


# -- one message -----------------------------------------------------------------------------


def test_accepted_records_sent_with_the_hash_of_the_bytes_received(tmp_path, smtp):
    server = Server()
    config = smtp(server)
    raw = message()
    with Dispatcher(config) as d:
        r = d.deliver(tmp_path, raw, SENDER, [RCPT], entry=entry())
    assert r.ok and r.attempts == 1
    (received,) = server.delivered
    assert received == raw  # dot-stuffing undone by the server: the very bytes
    sending, sent = journal.read_journal(tmp_path)
    assert (sending.status, sent.status) == ("sending", "sent")
    mid = email.message_from_bytes(received, policy=policy.default)["Message-ID"]
    for e in (sending, sent):
        assert e.message_id == mid
        assert e.message_sha256 == hashlib.sha256(received).hexdigest()
    assert sent.smtp_reply == "250 OK queued"
    assert journal.delivery_state(journal.read_journal(tmp_path), "relance-1", ["F1"]).status == "sent"
    # the next run refuses, without opening a connection
    with pytest.raises(JournalError, match="already sent"), Dispatcher(config) as d:
        d.deliver(tmp_path, message(), SENDER, [RCPT], entry=entry())
    assert len(server.delivered) == 1


def test_permanent_refusal_is_failed_and_not_retried(tmp_path, smtp):
    server = Server({1: "550 5.1.1 no such user"})
    with Dispatcher(smtp(server), retries=3, sleep=no_sleep) as d:
        r = d.deliver(tmp_path, message(), SENDER, [RCPT], entry=entry())
    assert (r.status, r.attempts, r.reply) == ("failed", 1, "550 5.1.1 no such user")
    assert server.data_calls == 1 and server.delivered == []
    assert statuses(tmp_path) == ["sending", "failed"]
    state = journal.delivery_state(journal.read_journal(tmp_path), "relance-1")
    assert state.status == "failed" and state.permanent and state.may_send
    assert journal.read_journal(tmp_path)[-1].smtp_reply == "550 5.1.1 no such user"


def test_temporary_refusal_is_retried_once_then_delivered_once(tmp_path, smtp):
    server = Server({1: "451 4.3.0 try again later"})
    waits: list[float] = []
    with Dispatcher(smtp(server), retries=3, backoff=0.5, sleep=waits.append) as d:
        r = d.deliver(tmp_path, message(), SENDER, [RCPT], entry=entry())
    assert r.ok and r.attempts == 2
    assert server.data_calls == 2 and len(server.delivered) == 1
    assert waits == [0.5]
    assert statuses(tmp_path) == ["sending", "sending", "sent"]


def test_temporary_refusals_exhausted_record_failed_not_unknown(tmp_path, smtp):
    server = Server({n: "452 4.2.2 mailbox full" for n in range(1, 10)})
    waits: list[float] = []
    with Dispatcher(smtp(server), retries=2, backoff=1, sleep=waits.append) as d:
        r = d.deliver(tmp_path, message(), SENDER, [RCPT], entry=entry())
    assert (r.status, r.attempts) == ("failed", 3) and waits == [1, 2]
    state = journal.delivery_state(journal.read_journal(tmp_path), "relance-1")
    assert state.status == "failed" and not state.permanent  # a later run may try again


def test_connection_lost_after_data_is_unknown_and_not_resent(tmp_path, smtp):
    server = Server({1: "drop"})
    config = smtp(server)
    with Dispatcher(config, retries=3, sleep=no_sleep) as d:
        r = d.deliver(tmp_path, message(), SENDER, [RCPT], entry=entry())
    assert r.status == "unknown" and r.attempts == 1  # never retried: the server may have it
    assert statuses(tmp_path) == ["sending", "unknown"]
    entries = journal.read_journal(tmp_path)
    assert journal.delivery_state(entries, "relance-1", ["F1"]).status == "unknown"
    assert journal.pending_deliveries(entries) == (entries[-1],)
    with pytest.raises(JournalError, match="delivery unknown"), Dispatcher(config) as d:
        d.deliver(tmp_path, message(), SENDER, [RCPT], entry=entry())
    assert server.data_calls == 1
    with Dispatcher(config) as d:  # --force: the user checked and sends again
        assert d.deliver(tmp_path, message(), SENDER, [RCPT], entry=entry(), force=True).ok
    assert server.data_calls == 2


def test_journal_failing_after_acceptance_leaves_unknown_not_a_resend(tmp_path, smtp, monkeypatch):
    """A full disk when recording "sent": the "sending" line is there, so the next run
    reports the delivery as unknown instead of sending again."""
    server = Server()
    config = smtp(server)
    real = journal.record

    def full_disk(root, e):
        if e.status == "sent":
            raise OSError(28, "No space left on device")
        return real(root, e)

    monkeypatch.setattr(journal, "record", full_disk)
    with pytest.raises(OSError), Dispatcher(config) as d:
        d.deliver(tmp_path, message(), SENDER, [RCPT], entry=entry())
    monkeypatch.setattr(journal, "record", real)
    assert len(server.delivered) == 1 and statuses(tmp_path) == ["sending"]
    with pytest.raises(JournalError, match="delivery unknown"), Dispatcher(config) as d:
        d.deliver(tmp_path, message(), SENDER, [RCPT], entry=entry())
    assert len(server.delivered) == 1


def test_quit_failing_after_acceptance_is_a_success(tmp_path, smtp):
    server = Server(quit_drop=True)
    with Dispatcher(smtp(server)) as d:
        r = d.deliver(tmp_path, message(), SENDER, [RCPT], entry=entry())
    assert r.ok and statuses(tmp_path) == ["sending", "sent"]


def test_connection_refused_is_retried_then_not_sent(tmp_path):
    waits: list[float] = []
    config = SmtpConfig("127.0.0.1", _port(), "none", timeout=2)
    with Dispatcher(config, retries=2, backoff=0.25, sleep=waits.append) as d:
        r = d.deliver(tmp_path, message(), SENDER, [RCPT], entry=entry())
    assert (r.status, r.attempts) == ("not-sent", 3) and waits == [0.25, 0.5]
    assert "cannot connect" in r.reply
    assert statuses(tmp_path) == ["generated"]  # nothing handed over: free to send later
    assert journal.delivery_state(journal.read_journal(tmp_path), "relance-1").may_send


# -- one session, many messages ---------------------------------------------------------------


def test_one_connection_for_many_messages_and_a_rate_limit(tmp_path, smtp):
    server = Server()
    clock = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        clock[0] += s

    with Dispatcher(smtp(server), rate=30, sleep=sleep, clock=lambda: clock[0]) as d:
        for n in range(5):
            case = tmp_path / f"c{n}"
            case.mkdir()
            assert d.deliver(case, message(n), SENDER, [RCPT], entry=entry()).ok
    assert server.connections == 1 and len(server.delivered) == 5
    assert waits == [2.0] * 4  # 30 a minute: one every 2 s


def test_reconnects_when_the_server_closed_the_session(tmp_path, smtp):
    server = Server()
    with Dispatcher(smtp(server), retries=0) as d:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        assert d.deliver(tmp_path / "a", message(1), SENDER, [RCPT], entry=entry()).ok
        d._client.sock.shutdown(socket.SHUT_RDWR)  # as an idle timeout on the server would
        r = d.deliver(tmp_path / "b", message(2), SENDER, [RCPT], entry=entry())
    assert r.ok and r.attempts == 1  # no retry spent: reconnecting is not a failure
    assert server.connections == 2 and len(server.delivered) == 2


# -- the lock ----------------------------------------------------------------------------------


def test_concurrent_sends_of_one_notice_deliver_once(tmp_path, smtp):
    server = Server(data_delay=0.3)
    config = smtp(server)
    results: list[object] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        try:
            with Dispatcher(config) as d:
                results.append(d.deliver(tmp_path, message(), SENDER, [RCPT], entry=entry()).status)
        except JournalError as e:
            results.append(type(e).__name__ + ": " + str(e))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(server.delivered) == 1
    assert results.count("sent") == 1
    assert all("being processed by another run" in str(r) or "already sent" in str(r) for r in results if r != "sent")
    assert statuses(tmp_path) == ["sending", "sent"]


def test_stale_lock_of_a_killed_process_is_recovered(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom dossier.journal import case_lock\n"
         "with case_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(60)\n", str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(CaseLockedError, match=rf"another run \(pid {holder.pid}"), journal.case_lock(tmp_path):
            pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    finally:
        holder.kill()
        holder.stdout.close()
    assert (tmp_path / journal.LOCK_NAME).exists()  # left behind, and harmless
    with journal.case_lock(tmp_path) as path, journal.case_lock(tmp_path):  # re-entrant in a thread
        assert path.read_text().strip() == str(os.getpid())


def test_old_journal_lines_still_parse_and_count(tmp_path):
    old = {"stage": "relance-1", "date": "2026-06-01", "channel": "email", "status": "sent", "recipient": RCPT,
           "files": [], "recorded_at": "2026-06-01T09:00:00+00:00", "invoices": ["F1"]}
    (tmp_path / "journal.jsonl").write_text(json.dumps(old) + "\n", encoding="utf-8")
    entries = journal.read_journal(tmp_path)
    assert entries[0].message_sha256 is None and entries[0].smtp_reply is None
    assert journal.delivery_state(entries, "relance-1", ["F1"]).status == "sent"
    assert journal.delivery_state(entries, "relance-2", ["F1"]).status == "none"
    assert journal.delivery_state(entries, "relance-1", ["F2"]).status == "none"  # a new invoice


def test_smtp_profiles(tmp_path):
    f = tmp_path / "smtp.toml"
    f.write_text('[smtp]\nhost = "smtp.example.fr"\nport = 2525\n'
                 '[profiles.relances]\nhost = "relay.example.fr"\nuser = "r@example.fr"\n', encoding="utf-8")
    c = mail.smtp_config(f, env={"DOSSIER_SMTP_HOST": "env.example", "DOSSIER_SMTP_PASSWORD": "pw"}, profile="relances")
    assert (c.host, c.port, c.user, c.password) == ("relay.example.fr", 2525, "r@example.fr", "pw")
    assert mail.smtp_config(f, env={}).host == "smtp.example.fr"
    with pytest.raises(DeliveryError, match=r"\[profiles.autre\]: no such SMTP profile \(profiles: relances\)"):
        mail.smtp_config(f, env={}, profile="autre")


# -- through write_stage and the CLI -------------------------------------------------------------


def test_write_stage_records_the_hash_of_the_bytes_sent(tmp_path, smtp, rates):
    server = Server()
    case = make_case(tmp_path / "case")
    w = write_stage(state_of(case, AT, rates), "relance-1", send=True, smtp=smtp(server), formats=("eml",))
    (received,) = server.delivered
    assert w.sent and w.entry.message_sha256 == hashlib.sha256(received).hexdigest()
    eml = next(f for f in w.entry.files if f.path.endswith(".eml"))
    assert eml.sha256 == w.entry.message_sha256 == journal.sha256_file(case.root / eml.path)
    assert statuses(case.root) == ["sending", "sent"]


def _case_copy(tmp_path: Path, name: str) -> Path:
    dst = tmp_path / name
    shutil.copytree(SAMPLES / "atelier-martin", dst, ignore=shutil.ignore_patterns("out", "journal.jsonl"))
    return dst


def _complete(path: Path) -> bool:
    data = path.read_bytes()
    if path.suffix == ".eml":
        return email.message_from_bytes(data, policy=policy.default)["Message-ID"] is not None and data.endswith(b"\r\n")
    return data.endswith((b"%%EOF\n", b"%%EOF", b"%%EOF\r\n"))


def test_kill_at_any_point_then_rerun_never_sends_twice(tmp_path, smtp):
    """``dossier letter relance-1 CASE --send`` SIGKILLed before, during and after DATA (and at
    a random moment), then run again."""
    import random

    target: dict[str, subprocess.Popen] = {}
    phase = {"at": None}

    def kill_on(name: str):
        def hook() -> None:
            if phase["at"] == name and "p" in target:
                target["p"].send_signal(signal.SIGKILL)
                time.sleep(0.2)  # let the kill land before the server answers
        return hook

    server = Server(data_delay=0.2, hooks={k: kill_on(k) for k in ("MAIL", "DATA", "QUIT")})
    config = smtp(server)
    env = {**os.environ, "DOSSIER_SMTP_HOST": "127.0.0.1", "DOSSIER_SMTP_PORT": str(config.port),
           "DOSSIER_SMTP_SECURITY": "none", "DOSSIER_SMTP_CONFIG": str(tmp_path / "none.toml"),
           "DOSSIER_RATES_FILE": str(tmp_path / "no-user-rates.csv")}
    env.pop("DOSSIER_DEBUG", None)
    rng = random.Random(7)
    outcomes = []
    for n, at in enumerate(("MAIL", "DATA", "QUIT", rng.uniform(0.3, 2.5))):
        case = _case_copy(tmp_path, f"case{n}")
        before = len(server.delivered)
        args = [sys.executable, "-m", "dossier.cli", "letter", "relance-1", str(case), "--at", AT.isoformat(),
                "--send", "--format", "eml"]
        phase["at"] = at if isinstance(at, str) else None
        p = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target["p"] = p
        if not isinstance(at, str):
            time.sleep(at)
            p.send_signal(signal.SIGKILL)
        p.wait(60)
        target.pop("p")
        out = case / "out"
        finals = sorted(x.name for x in out.iterdir() if not x.name.startswith(".")) if out.exists() else []
        assert finals in ([], ["relance-1.eml"]), finals  # never a partial set
        assert all(_complete(out / x) for x in finals)
        state_after_kill = journal.delivery_state(journal.read_journal(case), "relance-1").status
        rerun = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        delivered = len(server.delivered) - before
        outcomes.append((at, state_after_kill, rerun.returncode))
        assert delivered <= 1, (at, delivered)
        if state_after_kill == "unknown":
            assert rerun.returncode == 2 and "delivery unknown" in rerun.stderr
        elif state_after_kill == "sent":
            assert rerun.returncode == 2 and "already sent" in rerun.stderr and delivered == 1
        else:
            assert rerun.returncode == 0, rerun.stderr
            assert delivered == 1
            assert journal.delivery_state(journal.read_journal(case), "relance-1").status == "sent"
    # the three chosen kill points landed where intended
    assert [o[1] for o in outcomes[:3]] == ["none", "unknown", "sent"], outcomes
