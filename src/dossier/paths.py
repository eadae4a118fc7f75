"""Paths from untrusted input: a case folder never reaches outside itself.

A case folder comes from imports and from other people. Every path it names — the
``file:`` of an invoice, exhibit, credit note or notice, a ``receipt_file``, the files the
journal recorded, a ``templates:`` folder — is resolved here, symlinks included, and must
stay inside the case folder (or, for templates, its portfolio folder). A file must be a
regular file: a FIFO would block the reader forever, a device (``/dev/zero``) never ends,
``/proc`` files describe the running process (its environment holds the SMTP password).

One helper for every place that turns a name into a file, so that no caller can forget a
case: :func:`inside` resolves and confines, :func:`regular_file` also checks the file's
type without opening it, :func:`read_file` opens without following a last-moment swap to
a FIFO and reads at most :data:`MAX_FILE_BYTES`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dossier.errors import EvidenceError

#: the largest evidence or template file read (a 600 dpi A4 colour scan is ~25 MB)
MAX_FILE_BYTES = 256 * 1024 * 1024


class UnsafePathError(EvidenceError):
    """A path that leaves its folder, or names something other than a regular file."""


def _label(field: str) -> str:
    return f"{field}: " if field else ""


def is_inside(root: Path | str, path: Path | str) -> bool:
    """Whether ``path`` (relative to ``root`` unless absolute) resolves inside ``root``."""
    base = Path(root).resolve()
    p = Path(path)
    resolved = (p if p.is_absolute() else base / p).resolve()
    return resolved == base or base in resolved.parents


def inside(root: Path | str, path: Path | str, field: str = "", *, what: str = "the case folder") -> Path:
    """``path`` resolved (symlinks followed; relative to ``root`` unless absolute), or
    :class:`UnsafePathError` when it is not inside ``root``. ``field`` names the setting
    in the message (``exhibits[2].file``)."""
    base = Path(root).resolve()
    text = str(path)
    if "\x00" in text:
        raise UnsafePathError(f"{_label(field)}{text!r}: a path cannot contain a NUL character")
    p = Path(path)
    try:
        resolved = (p if p.is_absolute() else base / p).resolve()
    except (OSError, RuntimeError) as e:  # a symlink loop
        raise UnsafePathError(f"{_label(field)}{text}: cannot be resolved ({e})") from None
    if resolved != base and base not in resolved.parents:
        raise UnsafePathError(
            f"{_label(field)}{text}: outside {what} {base} (only files inside it are read, attached or embedded)"
        )
    return resolved


def file_type(path: Path) -> str | None:
    """None for a regular file; otherwise what it is ("missing", "a folder", "a FIFO"…),
    found with ``stat`` — the file is not opened."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "file not found"
    except OSError as e:  # a name too long, a link loop, no permission
        return f"cannot be read ({e.strerror})"
    except ValueError:  # a NUL character
        return "not a valid file name"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file"
    return "not a regular file"


def is_folder(path: Path | str) -> bool:
    """Whether ``path`` is a folder; False (never an exception) for a name too long, with a
    NUL character or a link loop."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def regular_file(root: Path | str, path: Path | str, field: str = "", *, what: str = "the case folder") -> Path:
    """:func:`inside`, and the result must be an existing regular file."""
    p = inside(root, path, field, what=what)
    problem = file_type(p)
    if problem is not None:
        raise UnsafePathError(f"{_label(field)}{path}: {problem}")
    return p


def read_file(root: Path | str, path: Path | str, field: str = "", *, what: str = "the case folder",
              limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file inside ``root``. The file is opened non-blocking and its
    type checked on the open descriptor, so a file swapped for a FIFO between the check and
    the read cannot hang the tool; more than ``limit`` bytes is refused."""
    return read_regular(regular_file(root, path, field, what=what), field, limit=limit)


def read_regular(path: Path | str, field: str = "", *, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file named by the user (a ``--rates`` or SMTP settings file:
    not confined), refused before it is opened when it is a folder, a FIFO or a device."""
    p = Path(path)
    problem = file_type(p)
    if problem is not None:
        raise UnsafePathError(f"{_label(field)}{path}: {problem}")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)
    except OSError as e:
        raise UnsafePathError(f"{_label(field)}{path}: cannot be read ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePathError(f"{_label(field)}{path}: not a regular file")
        if st.st_size > limit:
            raise UnsafePathError(f"{_label(field)}{path}: {st.st_size} bytes, more than the {limit} this tool reads")
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise UnsafePathError(f"{_label(field)}{path}: cannot be read ({e.strerror})") from None
    if len(data) > limit:
        raise UnsafePathError(f"{_label(field)}{path}: more than the {limit} bytes this tool reads")
    return data
