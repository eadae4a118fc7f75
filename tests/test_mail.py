"""Emails: parsed back with the standard library, delivered to a real SMTP server on
loopback (aiosmtpd), recorded in the journal, never sent twice."""

from __future__ import annotations

import email
import os
from email import policy
from pathlib import Path

import pytest

from dossier import journal, mail
from dossier.errors import DeliveryError, JournalError
from dossier.letters import LetterOptions, render_stage, write_stage
from dossier.mail import SmtpConfig

from helpers import (
    AT,
    make_case,
    state_of,  # noqa: E402
)


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def attachment_names(msg) -> list[str]:
    return [p.get_filename() for p in msg.iter_attachments()]


@pytest.fixture
def case(tmp_path):
    return make_case(tmp_path / "case")


def test_relance_1_email_parts_and_attachments(case, rates):
    r = render_stage(state_of(case, AT, rates), "relance-1")
    raw = r.files["relance-1.eml"]
    assert b"\r\n" in raw and not raw.replace(b"\r\n", b"").count(b"\n")  # CRLF only
    msg = parse(raw)
    assert msg["Subject"] == "Relance\u00a0: 1er rappel — factures F2026-014, F2026-021"
    assert msg["From"].addresses[0].addr_spec == "comptabilite@atelier-martin.example"
    assert msg["From"].addresses[0].display_name == "Atelier Martin"
    assert msg["To"].addresses[0].addr_spec == "compta@dupont.example"
    assert msg["To"].addresses[0].display_name == "Dupont & Fils <Père>"
    assert msg["Date"].datetime.isoformat() == "2026-06-15T09:00:00+02:00"
    assert msg["Message-ID"].endswith("@atelier-martin.example>")
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for body in (text, html.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")):
        assert "3\u00a0800,00\u00a0€" in body  # F2026-014 outstanding after the 1,000 payment
        assert "FR76 3000 6000 0112 3456 7890 189" in body
        assert "Claire Martin" in body  # signature
        assert "ne pas tenir compte" in body
    assert "&lt;" not in text and "<p>" not in text
    assert "cid:qr-sepa@dossier" in html
    names = attachment_names(msg)
    assert names == ["F2026-014.pdf", "F2026-021.pdf", "devis.pdf", "RIB-Atelier-Martin.pdf"]
    rib = next(p for p in msg.iter_attachments() if p.get_filename().startswith("RIB"))
    from helpers import pdf_text
    from helpers import squash as _norm

    rib_text = _norm(pdf_text(rib.get_content()))
    assert "Relevé d’identité bancaire" in rib_text and "AGRIFRPP" in rib_text
    # the inline QR image is referenced by the HTML part
    related = [p for p in msg.walk() if p.get("Content-ID") == "<qr-sepa@dossier>"]
    assert related and related[0].get_content_type() == "image/png"


@pytest.mark.parametrize("stage, attached", [
    ("mise-en-demeure", "mise-en-demeure-AM-2026-014.pdf"),
    ("echeancier", "echeancier-AM-2026-014.pdf"),
    ("dernier-avis", "dernier-avis-AM-2026-014.pdf"),
])
def test_letter_stages_email_carries_the_pdf(case, rates, stage, attached):
    r = render_stage(state_of(case, AT, rates), stage)
    msg = parse(r.files[f"{stage}.eml"])
    assert attached in attachment_names(msg)
    part = next(p for p in msg.iter_attachments() if p.get_filename() == attached)
    assert part.get_content() == r.files[f"{stage}.pdf"]


def test_eml_is_deterministic(case, rates):
    a = render_stage(state_of(case, AT, rates), "relance-2", formats=("eml",)).files["relance-2.eml"]
    b = render_stage(state_of(case, AT, rates), "relance-2", formats=("eml",)).files["relance-2.eml"]
    assert a == b


# -- real SMTP on loopback -----------------------------------------------------------------


class _Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    import socket

    from aiosmtpd.controller import Controller

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    sink = _Sink()
    ctl = Controller(sink, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield sink, SmtpConfig("127.0.0.1", port, "none")
    finally:
        ctl.stop()


def test_send_delivers_records_and_refuses_twice(case, rates, smtp_server):
    sink, config = smtp_server
    w = write_stage(state_of(case, AT, rates), "relance-1", send=True, smtp=config, formats=("pdf",))
    assert w.sent
    assert len(sink.messages) == 1
    mail_from, rcpt, data = sink.messages[0]
    assert mail_from == "comptabilite@atelier-martin.example" and rcpt == ["compta@dupont.example"]
    eml = case.root / "out" / "relance-1.eml"
    assert eml.read_bytes().replace(b"\r\n", b"\n") == data.replace(b"\r\n", b"\n")
    received = parse(data)
    assert received["Subject"].startswith("Relance\u00a0: 1er rappel")
    assert "RIB-Atelier-Martin.pdf" in attachment_names(received)
    entries = journal.read_journal(case)
    assert [x.status for x in entries] == ["sending", "sent"]  # "sending" written before DATA
    e = entries[-1]
    assert (e.stage, e.status, e.channel, e.recipient) == ("relance-1", "sent", "email", "compta@dupont.example")
    assert e.message_id == received["Message-ID"]
    assert {f.path for f in e.files} == {"out/relance-1.pdf", "out/relance-1.eml"}
    assert all(f.sha256 == journal.sha256_file(case.root / f.path) for f in e.files)
    assert e.invoices == ("F2026-014", "F2026-021")

    # never twice without --force, and nothing is sent or overwritten
    with pytest.raises(JournalError, match="already sent"):
        write_stage(state_of(case, AT, rates), "relance-1", send=True, smtp=config)
    assert len(sink.messages) == 1
    # regenerating without sending must not overwrite the sent files
    with pytest.raises(JournalError, match="never overwritten"):
        write_stage(state_of(case, AT, rates), "relance-1", formats=("eml",))
    # --force: sent again, under new names
    w2 = write_stage(state_of(case, AT, rates), "relance-1", send=True, smtp=config, force=True, formats=("pdf",))
    assert {p.name for p in w2.paths} == {"relance-1.v2.pdf", "relance-1.v2.eml"}
    assert len(sink.messages) == 2
    assert journal.verify(case) == []


def test_delivery_errors_are_clear(case, rates):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    with pytest.raises(DeliveryError, match=f"127.0.0.1:{port}: cannot deliver"):
        write_stage(state_of(case, AT, rates), "relance-1", send=True, smtp=SmtpConfig("127.0.0.1", port, "none", timeout=2))
    # nothing recorded as sent; the files written are journaled as generated
    assert journal.sent_stages(case) == ()
    (entry,) = journal.read_journal(case)
    assert entry.status == "generated" and entry.message_id is None


def test_smtp_config_from_env_and_file(tmp_path, monkeypatch):
    env = {"DOSSIER_SMTP_HOST": "smtp.example.fr", "DOSSIER_SMTP_USER": "u", "DOSSIER_SMTP_PASSWORD": "secret"}
    monkeypatch.setenv("DOSSIER_SMTP_CONFIG", str(tmp_path / "absent.toml"))
    c = mail.smtp_config(env=env)
    assert (c.host, c.port, c.security, c.user, c.password) == ("smtp.example.fr", 587, "starttls", "u", "secret")
    assert "secret" not in repr(c)
    with pytest.raises(DeliveryError, match="DOSSIER_SMTP_HOST"):
        mail.smtp_config(env={})
    with pytest.raises(DeliveryError, match="no password"):
        mail.smtp_config(env={"DOSSIER_SMTP_HOST": "h", "DOSSIER_SMTP_USER": "u"})
    f = tmp_path / "smtp.toml"
    f.write_text('[smtp]\nhost = "mail.example.fr"\nsecurity = "ssl"\nuser = "me"\npassword = "pw"\n', encoding="utf-8")
    os.chmod(f, 0o644)
    with pytest.raises(DeliveryError, match="chmod 600"):
        mail.smtp_config(f, env={})
    os.chmod(f, 0o600)
    c = mail.smtp_config(f, env={"DOSSIER_SMTP_PORT": "2465"})
    assert (c.host, c.port, c.security, c.user, c.password) == ("mail.example.fr", 2465, "ssl", "me", "pw")
    with pytest.raises(DeliveryError, match="security"):
        mail.smtp_config(env={"DOSSIER_SMTP_HOST": "h", "DOSSIER_SMTP_SECURITY": "tls13"})


def test_cli_letter_send_over_smtp(tmp_path, smtp_server):
    """`dossier letter relance-1 CASE --send` through the real entry point."""
    import shutil

    from helpers import cli

    sink, config = smtp_server
    src = Path(__file__).resolve().parent.parent / "samples" / "atelier-martin"
    case_dir = tmp_path / "am"
    shutil.copytree(src, case_dir, ignore=shutil.ignore_patterns("out", "journal.jsonl"))
    env = {"DOSSIER_SMTP_HOST": "127.0.0.1", "DOSSIER_SMTP_PORT": str(config.port), "DOSSIER_SMTP_SECURITY": "none",
           "DOSSIER_SMTP_CONFIG": str(tmp_path / "none.toml")}
    r = cli("letter", "relance-1", case_dir, "--at", AT.isoformat(), "--send", env=env)
    assert r.returncode == 0, r.stderr
    assert "sent by email to compta@maison-vercors.example" in r.stderr
    assert len(sink.messages) == 1
    msg = parse(sink.messages[0][2])
    assert "F2025-087" in msg["Subject"]
    r = cli("letter", "relance-1", case_dir, "--at", AT.isoformat(), "--send", env=env)
    assert r.returncode == 2 and "already sent" in r.stderr
    r = cli("plan", case_dir, "--at", AT.isoformat(), "--json")
    assert r.returncode == 0
    import json

    item = json.loads(r.stdout)[0]
    assert item["case"] == "AM-2026-003" and item["stage"] != "relance-1"


def test_mise_en_demeure_email_copy_then_lrar(case, rates, smtp_server):
    sink, config = smtp_server
    write_stage(state_of(case, AT, rates), "mise-en-demeure", send=True, smtp=config, formats=("pdf",),
                options=LetterOptions(lrar_number="1A 123 456 7890 1"))
    assert len(sink.messages) == 1
    # the posted LRAR is a different channel: it may be recorded after the email copy
    w = write_stage(state_of(case, AT, rates), "mise-en-demeure", mark_sent=True, formats=("pdf",), force=False,
                    out_dir=case.root / "out" / "lrar")
    assert w.entry.channel == "lrar" and w.entry.status == "sent"
    with pytest.raises(JournalError, match="already sent by lrar"):
        write_stage(state_of(case, AT, rates), "mise-en-demeure", mark_sent=True, formats=("pdf",), out_dir=case.root / "out" / "x")
    assert [e.channel for e in journal.sent_entries(case)] == ["email", "lrar"]


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1 and its key (PEM files)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem, key_pem = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert_pem, key_pem


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_send_over_tls_with_login(case, rates, tmp_path, security):
    import socket
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((mechanism, auth_data.login, auth_data.password))
        ok = auth_data.login == b"compta" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    sink = _Sink()
    # With implicit TLS aiosmtpd does not know the link is encrypted, hence auth_require_tls
    # only for STARTTLS (where it proves AUTH is offered after the upgrade alone).
    kwargs = dict(authenticator=authenticator, auth_require_tls=security == "starttls")
    if security == "starttls":
        ctl = Controller(sink, hostname="127.0.0.1", port=port, tls_context=server_ctx, require_starttls=True, **kwargs)
    else:
        ctl = Controller(sink, hostname="127.0.0.1", port=port, ssl_context=server_ctx, server_hostname="127.0.0.1", **kwargs)
    ctl.start()
    try:
        good = SmtpConfig("127.0.0.1", port, security, "compta", "s3cret", timeout=5, cafile=str(cert))
        # an unknown certificate is refused: verification is never switched off
        with pytest.raises(DeliveryError, match="cannot deliver|CERTIFICATE"):
            write_stage(state_of(case, AT, rates), "relance-1", send=True, formats=("pdf",),
                        smtp=SmtpConfig("127.0.0.1", port, security, "compta", "s3cret", timeout=5))
        with pytest.raises(DeliveryError, match="authentication refused"):
            write_stage(state_of(case, AT, rates), "relance-1", send=True, formats=("pdf",), force=True,
                        smtp=SmtpConfig("127.0.0.1", port, security, "compta", "wrong", timeout=5, cafile=str(cert)))
        assert sink.messages == []
        write_stage(state_of(case, AT, rates), "relance-1", send=True, formats=("pdf",), force=True, smtp=good)
    finally:
        ctl.stop()
    assert len(sink.messages) == 1
    assert parse(sink.messages[0][2])["Subject"].startswith("Relance\u00a0: 1er rappel")
    assert seen[-1][1:] == (b"compta", b"s3cret")
