"""Writing a run's documents: all of them, or none.

A letter is a PDF, a DOCX and an email; a court dossier is a PDF and the requête as DOCX.
They describe the same claim on the same date, so a reader must never find a new PDF next
to last week's email. :func:`write_set` writes every file of a run to a temporary name in
its final folder (``.NAME.PID.tmp``, flushed to disk) and renames them over their final
names only once all are written; on any failure the temporary files are removed and the
previous documents stay as they were. The next run removes what a killed run left behind
(temporary files whose process is gone).

An output path must be what it is used as: a folder (created if missing) holding regular
files. A device (``-o /dev/null``: replacing it as root would break the system), a socket,
a FIFO, a file where a folder is expected or a folder where a file is expected is refused
with :class:`OutputError` naming the path — as are a read-only, full or missing folder.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any, Mapping

from dossier.errors import DossierError
from dossier.paths import is_folder

#: temporary files of a run: ``.relance-1.pdf.12345.tmp``
TEMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.tmp$")


class OutputError(DossierError):
    """An output path that cannot be written: wrong kind of file, read-only, full, missing."""


def temp_name(path: Path) -> Path:
    """The temporary name of ``path`` for this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISREG(mode):
        return "a file"
    return "not a regular file"


def check_folder(folder: Path | str, *, create: bool = True) -> Path:
    """``folder`` as an output folder: an existing folder, or created (with its parents)
    when ``create``. Anything else is :class:`OutputError` naming the path."""
    folder = Path(folder)
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        if not create:
            raise OutputError(f"{folder}: output folder not found") from None
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputError(f"{folder}: cannot create the output folder ({e.strerror})") from None
        return folder
    except OSError as e:
        raise OutputError(f"{folder}: cannot use as output folder ({e.strerror})") from None
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{folder}: is {_kind(st.st_mode)}, not a folder: expected an output folder")
    return folder


def check_file(path: Path | str) -> Path:
    """``path`` as an output file: absent, or an existing regular file (replaced)."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return path
    except OSError as e:
        raise OutputError(f"{path}: cannot use as output file ({e.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{path}: is {_kind(st.st_mode)}, not a file: refusing to write over it")
    return path


def check_target(path: Path | str) -> Path:
    """An ``-o`` that may be a file or a folder (``dossier bundle``), checked before any
    work: an existing folder (or a name ending in ``/``) is a folder; otherwise a file, absent
    or regular, whose parent is (or can become) a folder."""
    text = str(path)
    p = Path(path)
    if text.endswith(("/", "\\")) or is_folder(p):
        return check_folder(p)
    check_file(p)
    parent = p.parent
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    check_folder(parent, create=False)
    return p


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def clean_leftovers(folder: Path | str) -> list[Path]:
    """Remove the temporary files a killed run left in ``folder`` (``.NAME.PID.tmp`` of a
    process that no longer runs); returns what was removed. One pass over the folder."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = TEMP_RE.match(entry.name)
        if m is None or _alive(int(m.group("pid"))):
            continue
        try:
            if entry.is_file(follow_symlinks=False) or entry.is_symlink():
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _confined(path: Path, root: Path | None) -> None:
    """A target that lies (as written) inside the case folder must stay inside it once
    symlinks are followed: ``out`` linked to another folder is refused."""
    if root is None:
        return
    base = Path(os.path.abspath(root))
    lexical = Path(os.path.abspath(path))
    if base != lexical and base not in lexical.parents:
        return
    real_base = base.resolve()
    real = lexical.parent.resolve() / lexical.name
    if real_base != real and real_base not in real.parents:
        raise OutputError(f"{path}: the output folder leads outside the case folder {real_base} (a symbolic link?)")


def _write_temp(path: Path, data: bytes) -> Path:
    tmp = temp_name(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        fd = os.open(tmp, flags, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise OutputError(f"{path}: cannot write the file ({e.strerror})") from None
    return tmp


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def case_inputs(case: Any) -> set[Path]:
    """The files a case reads (case.yaml, the journal, every evidence file), resolved: an
    output never replaces one of them (``-o CASE/pieces`` would overwrite the evidence)."""
    paths = [getattr(case, "case_file", None), getattr(case, "journal_file", None)]
    for group in ("invoices", "credit_notes", "exhibits", "notices"):
        for item in getattr(case, group, ()) or ():
            paths += [getattr(item, "file", None), getattr(item, "receipt_file", None)]
    out = set()
    for p in paths:
        if p is not None:
            try:
                out.add(Path(p).resolve())
            except (OSError, RuntimeError):
                pass
    return out


def write_set(files: Mapping[Path, bytes], *, case: Any = None) -> list[Path]:
    """Write every ``path: bytes`` of ``files`` or none of them (see the module doc).
    ``case``: a target inside the case folder must resolve inside it, and no target may
    replace a file the case reads (:func:`case_inputs`). Returns the paths written, in
    order. Raises :class:`OutputError` naming the path."""
    targets = [Path(p) for p in files]
    root_p = Path(case.root) if case is not None and getattr(case, "root", None) is not None else None
    inputs = case_inputs(case) if case is not None else set()
    folders = list(dict.fromkeys(p.parent for p in targets))
    for folder in folders:
        _confined(folder / "x", root_p)
        check_folder(folder)
        clean_leftovers(folder)
    for p in targets:
        _confined(p, root_p)
        check_file(p)
        if p.resolve() in inputs:
            raise OutputError(f"{p}: is a file of the case (case.yaml, journal or evidence): an output never replaces it")
    written: list[Path] = []
    try:
        for p, data in zip(targets, files.values(), strict=True):
            written.append(_write_temp(p, data))
        for tmp, p in zip(written, targets, strict=True):
            os.replace(tmp, p)
    except OSError as e:
        raise OutputError(f"{p}: cannot write the file ({e.strerror})") from None
    finally:
        for tmp in written:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    for folder in folders:
        fsync_dir(folder)
    return targets
