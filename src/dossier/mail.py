"""Emails: RFC 5322 ``.eml`` files (text and HTML parts, attachments) and SMTP delivery.

**Determinism.** For a given case and ``--at`` date the ``.eml`` is byte-identical: the
``Date`` header is the ``--at`` date at 09:00 Paris time, the ``Message-ID`` and the MIME
boundaries are derived from a hash of the content (never random). When an email is really
sent (``--send``), the ``Date`` is the moment of sending and the file written and hashed in
the journal is exactly the bytes handed to the server.

**SMTP settings** never live in a case file. They come from environment variables, which
win, or from a TOML file (``$DOSSIER_SMTP_CONFIG``, else ``~/.config/dossier/smtp.toml``)::

    [smtp]
    host = "smtp.example.fr"
    port = 587
    security = "starttls"        # starttls | ssl | none
    user = "comptabilite@atelier-martin.fr"
    password = "…"               # or leave it out and set DOSSIER_SMTP_PASSWORD

Named profiles (a portfolio names the one it sends with) are tables ``[profiles.NAME]``
in the same file; a key a profile leaves out is taken from ``[smtp]``::

    [profiles.relances]
    host = "smtp.mailer.example"
    user = "relances@atelier-martin.fr"
    password = "…"

With a profile, the environment only supplies a missing password
(``DOSSIER_SMTP_PASSWORD``): a host set in the environment does not silently redirect
every profile.

Environment: ``DOSSIER_SMTP_HOST``, ``DOSSIER_SMTP_PORT``, ``DOSSIER_SMTP_SECURITY``,
``DOSSIER_SMTP_USER``, ``DOSSIER_SMTP_PASSWORD``, ``DOSSIER_SMTP_TIMEOUT``,
``DOSSIER_SMTP_CAFILE`` (extra CA certificates to trust). Certificates are always verified. A config file
holding a password must not be readable by other users (``chmod 600``).
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
from dataclasses import dataclass
from datetime import date, datetime, time
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Iterable, Mapping

from dossier.errors import DeliveryError
from dossier.paths import read_regular

SECURITIES = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mime: str = "application/pdf"


def paris_morning(at: date) -> datetime:
    """``at`` at 09:00 Europe/Paris (the deterministic Date of a generated email)."""
    from zoneinfo import ZoneInfo

    return datetime.combine(at, time(9, 0), tzinfo=ZoneInfo("Europe/Paris"))


def build_email(
    *,
    sender: tuple[str, str],
    to: Iterable[tuple[str, str]],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Iterable[Attachment] = (),
    inline_images: Mapping[str, bytes] | None = None,
    when: datetime,
    reply_to: str | None = None,
    cc: Iterable[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """The message as bytes (CRLF line endings, RFC 5322). ``sender`` and ``to`` are
    ``(display name, address)`` pairs; ``inline_images`` maps a Content-ID (used in the
    HTML as ``cid:…``) to PNG bytes."""
    to = list(to)
    cc = list(cc)
    attachments = list(attachments)
    if not to or not all(addr for _, addr in to):
        raise DeliveryError(f"{subject}: no recipient email address")
    h = hashlib.sha256()
    for part in (sender[1], *(a for _, a in to), subject, text, html or "", when.isoformat()):
        h.update(part.encode("utf-8") + b"\0")
    for a in attachments:
        h.update(a.filename.encode() + hashlib.sha256(a.data).digest())
    digest = h.hexdigest()
    domain = sender[1].rsplit("@", 1)[-1] or "dossier.invalid"

    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = formataddr(sender)
    msg["To"] = ", ".join(formataddr(x) for x in to)
    if cc:
        msg["Cc"] = ", ".join(formataddr(x) for x in cc)
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<{digest[:32]}@{domain}>"
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
        if inline_images:
            html_part = msg.get_payload()[1]
            for cid, png in inline_images.items():
                html_part.add_related(png, "image", "png", cid=f"<{cid}>", filename=f"{cid.split('@')[0]}.png", disposition="inline")
    for a in attachments:
        maintype, _, subtype = a.mime.partition("/")
        msg.add_attachment(a.data, maintype=maintype, subtype=subtype or "octet-stream", filename=a.filename)
    for n, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_dossier_{digest[:20]}_{n}")
    return msg.as_bytes(policy=policy.SMTP)


def message_id(raw: bytes) -> str | None:
    from email import message_from_bytes

    return message_from_bytes(raw, policy=policy.default).get("Message-ID")


# -- delivery ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str = "starttls"
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0
    origin: str = "environment"
    #: extra CA certificates (PEM) to trust, e.g. a company relay's own CA
    cafile: str | None = None

    def __repr__(self) -> str:  # never print the password
        return f"SmtpConfig(host={self.host!r}, port={self.port}, security={self.security!r}, user={self.user!r}, origin={self.origin!r})"

    def ssl_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.cafile)
        except (OSError, ssl.SSLError) as e:
            raise DeliveryError(f"SMTP CA file {self.cafile}: cannot be read: {e}") from None


def default_config_file() -> Path:
    env = os.environ.get("DOSSIER_SMTP_CONFIG")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "dossier" / "smtp.toml"


def _config_tables(path: Path, profile: str | None) -> dict:
    """The ``[smtp]`` table of ``path``, overlaid with ``[profiles.NAME]`` for a profile."""
    import tomllib

    try:
        doc = tomllib.loads(read_regular(path).decode("utf-8"))  # not a folder or FIFO
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise DeliveryError(f"{path}: not a valid TOML file: {e}") from None
    data = doc.get("smtp", {})
    if not isinstance(data, dict):
        raise DeliveryError(f"{path}: [smtp]: expected a table")
    profiles = doc.get("profiles", {})
    if not isinstance(profiles, dict):
        raise DeliveryError(f"{path}: profiles: expected tables [profiles.NAME]")
    if profile is not None:
        chosen = profiles.get(profile)
        if not isinstance(chosen, dict):
            known = ", ".join(sorted(profiles)) or "none"
            raise DeliveryError(f"{path}: [profiles.{profile}]: no such SMTP profile (profiles: {known})")
        data = {**data, **chosen}
    tables = [data, *(v for v in profiles.values() if isinstance(v, dict))]
    if any(t.get("password") for t in tables) and os.name == "posix" and path.stat().st_mode & 0o077:
        raise DeliveryError(f"{path}: holds a password but is readable by other users: run chmod 600 {path}")
    return data


def smtp_config(config_file: Path | str | None = None, env: Mapping[str, str] | None = None, profile: str | None = None) -> SmtpConfig:
    """SMTP settings from the environment, then the config file; raises
    :class:`DeliveryError` naming what is missing. ``profile``: a ``[profiles.NAME]``
    table of the config file (see the module docstring)."""
    env = os.environ if env is None else env
    path = Path(config_file).expanduser() if config_file else default_config_file()
    data: dict = {}
    origin = "environment"
    if path.exists():
        data = _config_tables(path, profile)
        origin = str(path) if profile is None else f"{path} [profiles.{profile}]"
    elif config_file or profile is not None:
        raise DeliveryError(f"{path}: SMTP config file not found")

    def get(key: str):
        if profile is not None and key != "password":
            return data.get(key)
        v = env.get(f"DOSSIER_SMTP_{key.upper()}")
        if profile is not None:  # the password: the file's first, else the environment
            return data.get(key) or (v if v not in (None, "") else None)
        return v if v not in (None, "") else data.get(key)

    host = get("host")
    if not host:
        raise DeliveryError(
            f"no SMTP server configured: set DOSSIER_SMTP_HOST (and _PORT, _SECURITY, _USER, _PASSWORD) "
            f"or write {path} with an [smtp] table"
        )
    security = str(get("security") or "starttls").lower()
    if security not in SECURITIES:
        raise DeliveryError(f"SMTP security {security!r}: expected one of {', '.join(SECURITIES)}")
    port_raw = get("port") or (465 if security == "ssl" else 587 if security == "starttls" else 25)
    try:
        port = int(port_raw)
    except (TypeError, ValueError):
        raise DeliveryError(f"SMTP port {port_raw!r} is not a number") from None
    if not 0 < port < 65536:
        raise DeliveryError(f"SMTP port {port_raw!r}: expected 1 to 65535")
    user = get("user")
    password = get("password")
    if user and not password:
        raise DeliveryError(f"SMTP user {user!r} has no password: set DOSSIER_SMTP_PASSWORD")
    try:
        timeout = float(get("timeout") or 30)
    except (TypeError, ValueError):
        timeout = float("nan")
    if not 0 < timeout <= 3600:  # NaN and infinity too
        raise DeliveryError(f"SMTP timeout {get('timeout')!r}: expected a number of seconds up to 3600 (DOSSIER_SMTP_TIMEOUT)")
    cafile = get("cafile")
    return SmtpConfig(str(host), port, security, user, password, timeout, origin, str(cafile) if cafile else None)


def open_session(config: SmtpConfig) -> smtplib.SMTP:
    """A connected, greeted (EHLO), secured and authenticated SMTP client. Raises
    :class:`DeliveryError` for what no retry can fix (authentication refused, STARTTLS not
    offered); connection errors propagate as ``OSError``/``smtplib.SMTPException``."""
    where = f"{config.host}:{config.port}"
    if config.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=config.ssl_context())
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    try:
        client.ehlo()
        if config.security == "starttls":
            client.starttls(context=config.ssl_context())
            client.ehlo()
        if config.user:
            client.login(config.user, config.password or "")
    except smtplib.SMTPAuthenticationError as e:
        client.close()
        raise DeliveryError(f"{where}: authentication refused for {config.user!r}: {answer(e)}") from None
    except smtplib.SMTPNotSupportedError as e:
        client.close()
        raise DeliveryError(f"{where}: {e} (check DOSSIER_SMTP_SECURITY)") from None
    except BaseException:
        client.close()
        raise
    return client


def send(raw: bytes, sender: str, recipients: Iterable[str], config: SmtpConfig) -> None:
    """Deliver ``raw`` over SMTP in one connection, with no journal and no retry (see
    :mod:`dossier.delivery` for sending a notice). Raises :class:`DeliveryError` with the
    server's answer."""
    recipients = list(recipients)
    where = f"{config.host}:{config.port}"
    try:
        with open_session(config) as client:
            refused = client.sendmail(sender, recipients, raw)
    except smtplib.SMTPAuthenticationError as e:
        raise DeliveryError(f"{where}: authentication refused for {config.user!r}: {answer(e)}") from None
    except smtplib.SMTPRecipientsRefused as e:
        raise DeliveryError(f"{where}: recipients refused: {', '.join(e.recipients)}") from None
    except smtplib.SMTPNotSupportedError as e:
        raise DeliveryError(f"{where}: {e} (check DOSSIER_SMTP_SECURITY)") from None
    except smtplib.SMTPResponseException as e:
        raise DeliveryError(f"{where}: server refused the message: {answer(e)}") from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as e:
        raise DeliveryError(f"{where}: cannot deliver: {e}") from None
    if refused:
        raise DeliveryError(f"{where}: some recipients were refused: {', '.join(refused)}")


def answer(e: smtplib.SMTPResponseException) -> str:
    """The server's reply carried by ``e``, as ``"550 5.1.1 …"``."""
    msg = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
    return f"{e.smtp_code} {msg}"
