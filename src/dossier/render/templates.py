"""Template loading: the user's folder first, the shipped templates as fallback.

A user copies any file of ``src/dossier/templates/`` (the repo's top-level ``templates/``
is a symlink to it) into their own folder, keeping the relative path — e.g.
``my-templates/letters/relance-1.html`` — and points ``--templates DIR`` or the case
file's ``templates:`` key at it. Everything not overridden comes from the shipped set.

Every template runs **sandboxed** (:class:`jinja2.sandbox.SandboxedEnvironment`), the
shipped ones and a user's alike: a template can format the values it is given, never reach
Python internals (``__globals__``, ``__subclasses__``, ``os``…). An attempt is a
:class:`~dossier.errors.TemplateError` naming the template file and line. A template file
must be a regular file inside its folder (a symlink out of it is refused).

The Jinja2 environment autoescapes (so "Dupont & Fils" stays literal in HTML), uses
``StrictUndefined`` (a typo in a variable fails loudly, naming template and line) and has
the French formatting filters of :mod:`dossier.fmt`: ``money``, ``date_long``,
``date_short``, ``rate``, ``words``.

Compiled templates are kept in a bytecode cache (``$DOSSIER_CACHE_DIR/jinja``, else
``$XDG_CACHE_HOME/dossier/jinja`` or ``~/.cache/dossier/jinja``), like Python's own
``.pyc`` files: compiling the dossier's templates costs ~0.1 s on every cold start. An
entry is used only if the template's source is unchanged (Jinja checks a checksum), so
the output never depends on the cache. Sandboxed code is compiled differently from
unsandboxed code, so the entries have their own file names (``__dossier_sandbox_*``): a
cache filled by an older, unsandboxed version is never loaded. ``DOSSIER_NO_CACHE=1`` turns it off; a folder that
cannot be written is skipped silently.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Iterable, Mapping

from dossier import fmt
from dossier.errors import TemplateError
from dossier.paths import UnsafePathError, inside, is_folder, read_file, regular_file

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "templates"

#: extensions rendered without HTML escaping (plain-text email bodies, subjects, CSS)
_RAW_EXTENSIONS = (".txt", ".css", ".subject")

_lock = threading.Lock()
_envs: dict[tuple[str, ...], Any] = {}


def _autoescape(name: str | None) -> bool:
    return not (name or "").endswith(_RAW_EXTENSIONS)


def _fmt(fn_name: str):
    def filt(value, *args, **kwargs):

        return getattr(fmt, fn_name)(value, *args, **kwargs)

    filt.__name__ = fn_name
    return filt


def search_path(user_dirs: Iterable[Path | str | None] = ()) -> tuple[Path, ...]:
    """The folders searched, in order: the user's (existing ones only), then the shipped."""
    out: list[Path] = []
    for d in user_dirs:
        if d is None:
            continue
        p = Path(d).expanduser().resolve()
        if not is_folder(p):
            raise TemplateError(f"{d}: templates folder not found")
        if p not in out:
            out.append(p)
    out.append(SHIPPED_DIR)
    return tuple(out)


def confined_dirs(case_root: Path | str | None, dirs: Iterable[Path | str | None]) -> tuple[Path | None, ...]:
    """The template folders of a case (``--templates``, the case's ``templates:`` key, the
    portfolio's ``templates/``), each resolved and required to lie inside the case folder
    or its portfolio folder (the folder holding the case folder): a case cannot point the
    tool at templates elsewhere. ``None`` entries are kept (not set)."""
    if case_root is None:
        return tuple(dirs)
    portfolio = Path(case_root).resolve().parent
    out: list[Path | None] = []
    for d in dirs:
        if d is None:
            out.append(None)
            continue
        try:
            out.append(inside(portfolio, Path(d).expanduser().resolve(), "templates",
                              what="the case folder or its portfolio folder"))
        except UnsafePathError as e:
            raise TemplateError(str(e)) from None
    return tuple(out)


def environment(user_dirs: Iterable[Path | str | None] = ()):
    """A (cached) Jinja2 environment over ``user_dirs`` then the shipped templates."""
    import jinja2

    path = search_path(user_dirs)
    key = tuple(str(p) for p in path)
    with _lock:
        env = _envs.get(key)
        if env is None:
            env = sandboxed_environment(
                loader=_confined_loader(path),
                autoescape=_autoescape,
                undefined=jinja2.StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
                bytecode_cache=_bytecode_cache(),
            )
            for name in ("money", "date_long", "date_short", "rate"):
                env.filters[name] = _fmt(name)
            env.filters["words"] = _fmt("amount_in_words")
            env.filters["siren"] = _fmt("siren")
            env.filters["date_long"] = _fmt("date_long_nb")  # no-break spaces in documents
            env.filters["typo"] = _fmt("typo")
            _envs[key] = env
        return env


def cache_dir() -> Path | None:
    """Where compiled templates are cached, or None when caching is off."""
    if os.environ.get("DOSSIER_NO_CACHE"):
        return None
    base = os.environ.get("DOSSIER_CACHE_DIR")
    if base:
        return Path(base).expanduser() / "jinja"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "dossier" / "jinja"


def _bytecode_cache():
    import jinja2

    folder = cache_dir()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            return None
    except OSError:
        return None

    class Cache(jinja2.FileSystemBytecodeCache):
        """A cache that never fails a render: a full disk or a vanished folder only
        costs a recompilation."""

        def load_bytecode(self, bucket):
            try:
                super().load_bytecode(bucket)
            except (OSError, ValueError, EOFError):
                bucket.reset()

        def dump_bytecode(self, bucket):
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass

    return Cache(str(folder), pattern=CACHE_PATTERN)


#: bytecode cache file names: distinct from Jinja's default so that code compiled without
#: the sandbox (older versions of this tool) is never loaded by a sandboxed environment
CACHE_PATTERN = "__dossier_sandbox_%s.cache"


def sandboxed_environment(**kwargs: Any):
    """A Jinja2 environment in which templates cannot run code (also used for docxtpl)."""
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(**kwargs)


def _confined_loader(dirs: Iterable[Path]):
    """Like ``FileSystemLoader`` over ``dirs``, but a template must be a regular file that
    resolves (symlinks followed) inside the folder it was found in."""
    import jinja2
    from jinja2.loaders import split_template_path

    class ConfinedLoader(jinja2.BaseLoader):
        def __init__(self, folders: tuple[Path, ...]):
            self.folders = folders

        def get_source(self, environment, template: str):
            pieces = split_template_path(template)
            for d in self.folders:
                p = d.joinpath(*pieces)
                if not os.path.lexists(p):
                    continue
                try:
                    data = read_file(d, p, what="the templates folder")
                except UnsafePathError as e:
                    raise TemplateError(f"{p}: template refused: {e}") from None
                try:
                    source = data.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise TemplateError(f"{p}: not UTF-8 text (byte {e.start})") from None
                mtime = _mtime(p)
                return source, str(p), lambda p=p, mtime=mtime: _mtime(p) == mtime

            raise jinja2.TemplateNotFound(template)

    return ConfinedLoader(tuple(Path(d) for d in dirs))


def _mtime(p: Path) -> float | None:
    try:
        return os.path.getmtime(p)
    except OSError:
        return None


def find_template(name: str, user_dirs: Iterable[Path | str | None] = ()) -> Path:
    """The file that will be used for ``name`` (for binary templates such as ``.docx``)."""
    for d in search_path(user_dirs):
        p = d / name
        if os.path.lexists(p):
            try:
                return regular_file(d, p, name, what="the templates folder")
            except UnsafePathError as e:
                raise TemplateError(f"{p}: template refused: {e}") from None
    raise TemplateError(f"{name}: template not found in {', '.join(str(d) for d in search_path(user_dirs))}")


def has_template(name: str, user_dirs: Iterable[Path | str | None] = ()) -> bool:
    try:
        find_template(name, user_dirs)
    except TemplateError:
        return False
    return True


def render(name: str, context: Mapping[str, Any], user_dirs: Iterable[Path | str | None] = ()) -> str:
    """Render template ``name`` (e.g. ``letters/relance-1.html``) with ``context``.

    Every Jinja2 failure becomes a :class:`TemplateError` naming the template file and line.
    """
    import jinja2

    env = environment(user_dirs)
    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound as e:
        where = ", ".join(str(d) for d in search_path(user_dirs))
        raise TemplateError(f"{e.name or name}: template not found in {where}") from None
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(f"{e.filename or name}:{e.lineno}: template syntax error: {e.message}") from None
    try:
        return template.render(**context)
    except jinja2.TemplateError as e:
        raise TemplateError(f"{_where(e, template, user_dirs)}: {e}") from None


def _where(exc: BaseException, template, user_dirs) -> str:
    """``file:line`` of the innermost template frame of ``exc`` (Jinja2 rewrites the
    traceback so that template frames carry the template's file name and line)."""
    roots = tuple(str(d) for d in search_path(user_dirs))
    where = f"{template.filename or template.name}:?"
    tb = exc.__traceback__
    while tb is not None:
        fn = tb.tb_frame.f_code.co_filename
        if fn == template.filename or fn.startswith(roots):
            where = f"{fn}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where
