"""Run one function in a forked child process while the caller goes on, on machines with
more than one CPU: the dossier typesets its cover and requête (WeasyPrint, pure Python,
so a thread would not help) while the evidence is read and stamped.

The child gets a copy of everything the parent has (nothing is pickled on the way in),
computes, sends back the pickled result, and exits with ``os._exit``. The result is the
same bytes as running the function in the parent, so the dossier does not depend on
which way it ran. The function runs in the parent instead when:

- the platform has no ``fork`` or is not Linux (forking is unsafe on macOS);
- only one CPU is available to the process (affinity, or a container's CPU quota);
- the process has more than one native thread (a fork copies only the calling thread,
  and a lock held by another one would never be released in the child);
- ``DOSSIER_NO_FORK`` is set;
- the child dies without an answer (killed, out of memory): the work is then redone in
  the parent, so a failure of the child is never the user's problem.

An exception raised by the function reaches the caller of :meth:`Background.result` as
if the function had run in-process (DossierError subclasses keep their class and
message).
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import Any, Callable


def can_fork() -> bool:
    if os.environ.get("DOSSIER_NO_FORK") or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    try:
        if len(os.sched_getaffinity(0)) < 2 or cpu_quota() < 1.5:
            return False
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def cpu_quota() -> float:
    """CPUs this process may use by its cgroup's quota (a container limited to one CPU
    gains nothing from a second process); infinity when unlimited or unknown."""
    for path, parse in (("/sys/fs/cgroup/cpu.max", _cgroup2), ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", _cgroup1)):
        try:
            text = open(path, encoding="ascii").read()
        except OSError:
            continue
        value = parse(text)
        if value is not None:
            return value
    return float("inf")


def _cgroup2(text: str) -> float | None:
    """``cpu.max``: "max 100000" or "150000 100000" (quota and period, µs)."""
    parts = text.split()
    if len(parts) == 2 and parts[0] != "max":
        try:
            return int(parts[0]) / int(parts[1])
        except (ValueError, ZeroDivisionError):
            return None
    return None


def _cgroup1(text: str) -> float | None:
    try:
        quota = int(text.strip())
        period = int(open("/sys/fs/cgroup/cpu/cpu.cfs_period_us", encoding="ascii").read().strip())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


class Background:
    """``fn()`` started now (in a child when possible); :meth:`result` waits for it.

    ``fork``: None decides by :func:`can_fork`; True forks wherever ``os.fork`` exists
    (tests); False stays in this process."""

    def __init__(self, fn: Callable[[], Any], *, fork: bool | None = None):
        self._fn = fn
        self._pid: int | None = None
        self._fd: int | None = None
        self._done = False
        self._value: Any = None
        #: the work was started in a child process
        self.forked = False
        if can_fork() if fork is None else (fork and hasattr(os, "fork")):
            self._start()
            self.forked = True

    def _start(self) -> None:
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # child
            os.close(read)
            code = 0
            try:
                try:
                    payload = pickle.dumps(("ok", self._fn()), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException as e:  # noqa: BLE001 - everything goes back to the parent
                    payload = _pickled_error(e)
                with os.fdopen(write, "wb") as f:
                    f.write(payload)
            except BaseException:  # noqa: BLE001 - the parent redoes the work
                code = 1
            finally:
                os._exit(code)
        os.close(write)
        self._pid, self._fd = pid, read

    def result(self) -> Any:
        if self._done:
            return self._value
        outcome = self._collect() if self._pid is not None else None
        self._done = True
        if outcome is None:  # no child, or it died without answering
            self._value = self._fn()
            return self._value
        kind, value = outcome
        if kind == "ok":
            self._value = value
            return value
        raise value

    def cancel(self) -> None:
        """Stop the child (the caller failed and will not ask for the result)."""
        if self._pid is not None and not self._done:
            import signal

            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._collect()
            self._done = True

    def _collect(self):
        assert self._pid is not None and self._fd is not None
        chunks = []
        try:
            with os.fdopen(self._fd, "rb") as f:
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    chunks.append(chunk)
        finally:
            _, status = os.waitpid(self._pid, 0)
            self._pid = None
        if status != 0 or not chunks:
            return None
        try:
            return pickle.loads(b"".join(chunks))
        except Exception:  # noqa: BLE001 - a truncated answer: redo the work
            return None


def _pickled_error(e: BaseException) -> bytes:
    """The exception itself when it survives pickling, else a RuntimeError carrying its
    traceback (the parent never sees a half-decoded error)."""
    try:
        data = pickle.dumps(("error", e), protocol=pickle.HIGHEST_PROTOCOL)
        back = pickle.loads(data)[1]
        if type(back) is type(e) and str(back) == str(e):
            return data
    except Exception:  # noqa: BLE001
        pass
    import traceback

    text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    return pickle.dumps(("error", RuntimeError(f"in the background process:\n{text}")))
