"""Email delivery of a notice that never sends twice.

A :class:`Dispatcher` holds one SMTP connection for many messages (the daily batch) or one
(``dossier letter --send``). For each message, :meth:`Dispatcher.deliver`:

1. takes the case's lock (:func:`dossier.journal.case_lock`) for the whole sequence, so a
   concurrent ``letter --send`` or batch on the same case is refused;
2. reads the journal and refuses a notice already sent, or whose delivery is unknown
   (:func:`dossier.journal.delivery_state`), unless ``force``;
3. calls ``prepare()`` (e.g. writes the documents) — still before any SMTP traffic;
4. opens the envelope (``MAIL FROM``, ``RCPT TO``), appends a ``sending`` line to the
   journal with the Message-ID and the SHA-256 of the exact bytes about to be handed over,
   then issues ``DATA``;
5. appends ``sent`` as soon as the server accepts the message (before ``QUIT``: a failing
   ``QUIT`` afterwards changes nothing), ``failed`` with the server's reply on a refusal,
   ``unknown`` when the connection is lost after the message was handed over.

Temporary trouble before the message is handed over (a 4xx reply, a connection refused,
reset or closed by the server between two messages) is retried with exponential backoff;
a 4xx reply to the message itself is retried the same way (the server did not take it).
A permanent (5xx) refusal is recorded as ``failed`` and returned: the batch goes on with
the next case. ``rate`` caps the messages per minute (many providers limit it).

Example::

    from dossier import mail
    from dossier.delivery import Dispatcher

    with Dispatcher(mail.smtp_config(profile="relances"), rate=30, retries=3) as d:
        for case_root, raw, entry, write_files in work:
            result = d.deliver(case_root, raw, "compta@atelier.fr", ["dupont@example.fr"],
                               entry=entry, prepare=write_files)
            print(case_root, result.status)
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import smtplib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from dossier import journal, mail
from dossier.errors import DeliveryError, JournalError
from dossier.journal import JournalEntry, JournalFile

#: outcomes of :meth:`Dispatcher.deliver`
OUTCOMES = ("sent", "failed", "unknown", "not-sent")


@dataclass(frozen=True)
class Delivery:
    """What became of one message.

    ``status``: ``"sent"`` (accepted by the server), ``"failed"`` (refused; ``reply`` says
    why), ``"unknown"`` (connection lost after the message was handed over: maybe
    delivered, never resent without ``force``) or ``"not-sent"`` (the server could not be
    reached or kept answering 4xx before the message was handed over; nothing left the
    machine, a later run may send it)."""

    status: str
    message_id: str | None
    sha256: str
    attempts: int
    reply: str | None = None
    #: the last journal line written for this message
    entry: JournalEntry | None = None

    @property
    def ok(self) -> bool:
        return self.status == "sent"


class _Temporary(Exception):
    """Nothing was handed over; trying again cannot deliver twice."""

    def __init__(self, reply: str, *, refused: bool = False):
        super().__init__(reply)
        self.reply = reply
        #: a 4xx reply (the connection is still usable) rather than a lost connection
        self.refused = refused


class _Permanent(Exception):
    def __init__(self, reply: str):
        super().__init__(reply)
        self.reply = reply


class _Lost(Exception):
    """The connection died after the message was handed over: outcome unknown."""


def _stuff(message: bytes) -> bytes:
    """``message`` as sent after ``DATA``: dot-stuffed, CRLF-terminated, then ``.``."""
    data = re.sub(rb"(?m)^\.", b"..", message)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _reply(code: int, text: bytes | str) -> str:
    t = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(t.split())}"[:500]


class Dispatcher:
    """One SMTP session reused for many messages (see the module docstring).

    ``rate``: at most that many messages per minute (None: no limit). ``retries``: how
    many times a temporary failure is retried per message, waiting ``backoff``, then twice
    as long each time (at most ``max_backoff`` seconds). ``sleep`` and ``clock`` are
    injectable for tests. Use it as a context manager: the connection is closed (``QUIT``)
    at the end, and an error there is ignored — every message was already recorded. Not
    thread-safe: one dispatcher per thread (the case lock keeps threads off each other's
    cases)."""

    def __init__(
        self,
        config: mail.SmtpConfig,
        *,
        rate: float | None = None,
        retries: int = 3,
        backoff: float = 2.0,
        max_backoff: float = 60.0,
        sleep: Callable[[float], Any] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate is not None and rate <= 0:
            raise DeliveryError(f"rate {rate}: expected a positive number of messages per minute")
        if retries < 0:
            raise DeliveryError(f"retries {retries}: expected 0 or more")
        self.config = config
        self.rate = rate
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._clock = clock
        self._client: smtplib.SMTP | None = None
        self._last_start: float | None = None
        #: messages accepted by the server in this session
        self.sent = 0

    # -- session -------------------------------------------------------------------------

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """QUIT and close; errors are ignored (every message is already recorded)."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            client.close()

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    @property
    def where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def _connect(self) -> tuple[smtplib.SMTP, bool]:
        """The open client and whether it was opened just now."""
        if self._client is not None:
            return self._client, False
        try:
            self._client = mail.open_session(self.config)
        except smtplib.SMTPResponseException as e:
            code = e.smtp_code
            raise (_Permanent if 500 <= code < 600 else _Temporary)(mail.answer(e)) from None
        except (smtplib.SMTPException, OSError) as e:
            raise _Temporary(f"cannot connect: {e}") from None
        return self._client, True

    def _pace(self) -> None:
        if self.rate is None:
            return
        interval = 60.0 / self.rate
        now = self._clock()
        if self._last_start is not None and now < self._last_start + interval:
            self._sleep(self._last_start + interval - now)
            now = self._clock()
        self._last_start = now

    # -- one message ---------------------------------------------------------------------

    def _envelope(self, client: smtplib.SMTP, sender: str, rcpts: Sequence[str]) -> None:
        """MAIL FROM and RCPT TO; raises :class:`_Temporary` / :class:`_Permanent`."""
        try:
            replies = [client.mail(sender)]
            if replies[0][0] == 250:
                replies += [client.rcpt(r) for r in rcpts]
        except (smtplib.SMTPException, OSError) as e:
            self._drop()
            raise _Temporary(f"connection lost before the message was sent: {e}") from None
        bad = next(((c, t) for c, t in replies if c not in (250, 251)), None)
        if bad is None:
            return
        try:
            client.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()
        if 400 <= bad[0] < 500 or bad[0] == -1:
            raise _Temporary(_reply(*bad), refused=True)
        raise _Permanent(_reply(*bad))

    def _data(self, client: smtplib.SMTP, message: bytes) -> str:
        """DATA, the message, the server's verdict: returns the 2xx reply; raises
        :class:`_Temporary` (4xx, or lost before the message was handed over),
        :class:`_Permanent` (5xx) or :class:`_Lost` (lost after)."""
        try:
            client.putcmd("data")
            code, text = client.getreply()
        except (smtplib.SMTPException, OSError) as e:
            self._drop()
            raise _Temporary(f"connection lost before the message was sent: {e}") from None
        if code != 354:
            if 500 <= code < 600:
                raise _Permanent(_reply(code, text))
            raise _Temporary(_reply(code, text), refused=True)
        try:
            client.send(_stuff(message))
            code, text = client.getreply()
        except (smtplib.SMTPException, OSError) as e:
            self._drop()
            raise _Lost(str(e) or type(e).__name__) from None
        if 200 <= code < 300:
            return _reply(code, text)
        if 500 <= code < 600:
            raise _Permanent(_reply(code, text))
        raise _Temporary(_reply(code, text), refused=True)

    def deliver(
        self,
        case_root: Path | str,
        message: bytes,
        envelope_from: str,
        rcpts: Sequence[str],
        *,
        entry: JournalEntry,
        prepare: Callable[[], Iterable[JournalFile]] | None = None,
        force: bool = False,
    ) -> Delivery:
        """Send ``message`` for the case at ``case_root`` and record every step in its
        journal (see the module docstring). ``entry`` is the journal line to write (stage,
        date, invoices, amount…; its status, Message-ID, hashes are filled in);
        ``prepare()`` runs under the case lock before any SMTP traffic and returns the files
        to record (default: ``entry.files``).

        Raises :class:`dossier.journal.CaseLockedError` when another run holds the case,
        :class:`JournalError` when the notice was already sent or its delivery is unknown
        (without ``force``), :class:`DeliveryError` for settings no retry can fix (the
        files are then recorded as ``generated``). Every other outcome is returned."""
        root = Path(case_root)
        mid = mail.message_id(message)
        digest = hashlib.sha256(message).hexdigest()
        with journal.case_lock(root):
            state = journal.delivery_state(journal.read_journal(root), entry.stage, entry.invoices, entry.channel)
            if not force and not state.may_send:
                raise refusal(root, entry.stage, state)
            files = tuple(prepare()) if prepare is not None else entry.files
            base = dataclasses.replace(entry, files=files, message_id=mid, message_sha256=digest, smtp_reply=None, recorded_at="")
            return self._attempts(root, message, envelope_from, rcpts, base)

    def _attempts(self, root: Path, message: bytes, sender: str, rcpts: Sequence[str], base: JournalEntry) -> Delivery:
        attempt = 0
        last: JournalEntry | None = None
        while True:
            attempt += 1
            self._pace()
            try:
                client, fresh = self._connect()
                try:
                    self._envelope(client, sender, rcpts)
                except _Temporary as e:
                    if fresh or e.refused:
                        raise
                    client, fresh = self._connect()  # the server closed the idle session: reconnect
                    self._envelope(client, sender, rcpts)
                last = journal.record(root, dataclasses.replace(base, status="sending"))
                reply = self._data(client, message)
            except DeliveryError as e:
                if last is not None:  # an earlier attempt's "sending" line: the server never took it
                    journal.record(root, dataclasses.replace(base, status="failed", smtp_reply=str(e)[:500]))
                else:
                    journal.record(root, dataclasses.replace(base, status="generated", message_id=None, message_sha256=None))
                raise
            except _Lost as e:
                last = journal.record(root, dataclasses.replace(base, status="unknown", smtp_reply=f"connection lost after the message was sent: {e}"[:500]))
                return Delivery("unknown", base.message_id, base.message_sha256 or "", attempt, last.smtp_reply, last)
            except _Permanent as e:
                last = journal.record(root, dataclasses.replace(base, status="failed", smtp_reply=e.reply))
                return Delivery("failed", base.message_id, base.message_sha256 or "", attempt, e.reply, last)
            except _Temporary as e:
                if attempt <= self.retries:
                    self._sleep(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))
                    continue
                return self._give_up(root, base, attempt, e.reply, last)
            last = journal.record(root, dataclasses.replace(base, status="sent", smtp_reply=reply))
            self.sent += 1
            return Delivery("sent", base.message_id, base.message_sha256 or "", attempt, reply, last)

    def _give_up(self, root: Path, base: JournalEntry, attempts: int, reply: str, last: JournalEntry | None) -> Delivery:
        """Temporary failures until the last retry. If a ``sending`` line was written, close
        it with ``failed`` (the server never took the message); otherwise the files are
        recorded as ``generated``, as when nothing is sent."""
        if last is not None:
            e = journal.record(root, dataclasses.replace(base, status="failed", smtp_reply=reply))
            return Delivery("failed", base.message_id, base.message_sha256 or "", attempts, reply, e)
        e = journal.record(root, dataclasses.replace(base, status="generated", message_id=None, message_sha256=None))
        return Delivery("not-sent", base.message_id, base.message_sha256 or "", attempts, reply, e)


def refusal(root: Path, stage: str, state: journal.DeliveryState) -> JournalError:
    """The error for a notice that must not be sent again (already sent, or unknown)."""
    e = state.entry
    where = f"{journal.journal_path(root)}:{e.line}" if e is not None else str(journal.journal_path(root))
    if state.status == "sent" and e is not None:
        return JournalError(f"{stage}: already sent by {e.channel} on {e.date.isoformat()} ({where}); use --force to send it again")
    return JournalError(
        f"{stage}: delivery unknown: the email {e.message_id if e else ''} was handed to the server but no answer was "
        f"recorded ({where}); check the mailbox's sent folder or ask the recipient, then use --force to send it again"
    )
