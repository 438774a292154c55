"""One JSON line per frame: ``{"frame": n, "ts": ..., "faces": [...]}`` to a file or stdout.

A line is written whole or not at all: one ``write`` per line, and a write cut short (a disk
that fills mid-line) is truncated back, so a reader never meets a cut-off line. A file whose last
line was cut by a crash is repaired when the next run opens it. One file has one writer (an
``flock``; a second daemon gets a one-line error).

The events sink never stops the loop. When a write fails (a full disk, an I/O error) the line is
dropped and counted: one ERROR, then a WARNING reminder at most every ``REMIND_S`` seconds, and
writing resumes by itself when it works again. A closed stdout (``--events - | head``) ends
the run quietly through ``on_closed``.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from edge.errors import EdgeError
from edge.paths import FULL
from edge.ratelimit import RateLimitedLog
from edge.types import Frame, FrameResult

log = logging.getLogger(__name__)

REMIND_S = 60.0  # a failing events file is reported again at most this often


def to_event(result: FrameResult, labels: Sequence[str]) -> dict[str, Any]:
    """The event dict of one frame; boxes in source-frame pixels, scores rounded to 4 places."""
    return {
        "frame": result.frame,
        "ts": round(result.ts, 3),
        "faces": [{**f.summary(), "scores": f.label_scores(labels)} for f in result.faces],
        **({"capture": result.capture} if result.capture else {}),
    }


class LineStream:
    """Whole lines to a file descriptor: ``write`` loops over short writes, and on an error
    truncates a regular file back to where the line began (``O_APPEND``, one writer)."""

    def __init__(self, fd: int | None, name: str) -> None:
        self.fd = fd
        self.name = name

    def write(self, text: str) -> int:
        data = text.encode()
        fd = self._fd()
        done = 0
        try:
            while done < len(data):
                done += os.write(fd, data[done:])
        except OSError:
            if done:
                self._cut(fd, done)
            raise
        return len(text)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def _fd(self) -> int:
        if self.fd is None:
            raise OSError(errno.EBADF, "closed")
        return self.fd

    def _cut(self, fd: int, done: int) -> None:
        """Drop the ``done`` bytes of a line that could not be finished."""
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):  # (a pipe or terminal cannot take it back)
                start = os.lseek(fd, 0, os.SEEK_CUR) - done
                os.ftruncate(fd, start)
                os.lseek(fd, start, os.SEEK_SET)  # stdout redirected without O_APPEND: no hole
        except OSError as exc:
            log.error("events %s: cannot remove a cut-off line: %s", self.name, exc.strerror)


class EventFile(LineStream):
    """An events file: appended, locked against a second writer, a cut-off tail repaired.

    A disk too full to create the file is not fatal: ``write`` retries the open.

    Raises:
        EdgeError: the path cannot be written (a folder, read-only, no permission) or another
            process holds it.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(None, str(path))
        self.path = path
        try:
            self._open()
        except OSError as exc:
            if exc.errno not in FULL:
                raise
            log.error("events %s: %s; the daemon runs on and retries", path, exc.strerror)

    def _fd(self) -> int:
        if self.fd is None:
            self._open()
        return super()._fd()

    def _open(self) -> None:
        where = f"events file {self.path} (--events / events.path)"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno in FULL:
                raise
            raise EdgeError(f"cannot write {where}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise EdgeError(f"{where} is in use by another process (one writer per file)") from None
        self.fd = fd
        repair_tail(fd, self.name)


def repair_tail(fd: int, name: str, chunk: int = 1 << 16) -> int:
    """Truncate a file after its last newline (a line cut by a crash); the bytes dropped."""
    size = end = os.fstat(fd).st_size
    while end > 0:
        start = max(0, end - chunk)
        block = os.pread(fd, end - start, start)
        cut = block.rfind(b"\n")
        if cut >= 0:
            end = start + cut + 1
            break
        end = start
    if end < size:
        os.ftruncate(fd, end)
        log.warning("events %s: removed a cut-off last line (%d bytes)", name, size - end)
    return size - end


class EventWriter:
    """A sink: writes and flushes one line per ``FrameResult``; never raises on a write error.

    Args:
        stream: a text stream (``write`` + ``flush``), e.g. a ``LineStream``.
        labels: score order.
        owned: close ``stream`` on ``close``.
        on_closed: called once when the reader went away (``BrokenPipeError``).
        clock: monotonic seconds, for the reminder interval.
    """

    def __init__(
        self,
        stream: IO[str] | LineStream,
        labels: Sequence[str],
        owned: bool = False,
        on_closed: Callable[[], None] = lambda: None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.stream = stream
        self.labels = tuple(labels)
        self.name = getattr(stream, "name", "?")
        self.dropped = 0  # lines not written because of write errors
        self.failing = False
        self.reader_gone = False
        self._owned = owned
        self._on_closed = on_closed
        self._remind = RateLimitedLog(log, REMIND_S, *(clock,) if clock else ())

    def handle(self, frame: Frame, result: FrameResult) -> None:
        if self.reader_gone:
            return
        line = json.dumps(to_event(result, self.labels), separators=(",", ":")) + "\n"
        try:
            self.stream.write(line)
            self.stream.flush()
        except BrokenPipeError:
            self.reader_gone = True
            log.info("events %s: the reader closed it; stopping", self.name)
            self._on_closed()
        except OSError as exc:
            self._failed(exc)
        else:
            if self.failing:
                log.warning(
                    "events %s: writing again; %d events were dropped", self.name, self.dropped
                )
                self.failing = False
                self._remind.reset()

    def _failed(self, exc: OSError) -> None:
        self.dropped += 1
        reason = exc.strerror or str(exc)
        if not self.failing:
            self.failing = True
            self._remind.log(
                logging.ERROR,
                "events %s: cannot write (%s); dropping events until it can, the daemon runs on",
                self.name,
                reason,
            )
        else:
            self._remind.log(
                logging.WARNING,
                "events %s: still cannot write (%s); %d events dropped so far",
                self.name,
                reason,
                self.dropped,
            )

    def close(self) -> None:
        if self.failing:
            log.warning("events %s: %d events were dropped in all", self.name, self.dropped)
        if self._owned:
            self.stream.close()


def open_events(
    path: str, labels: Sequence[str], on_closed: Callable[[], None] = lambda: None
) -> EventWriter | None:
    """``""`` → None, ``"-"`` → stdout, else the file (appended, parent folders made).

    Raises:
        EdgeError: the file cannot be written or has another writer (checked here, at start).
    """
    if not path:
        return None
    if path == "-":
        if sys.stdout is None:  # started with fd 1 closed
            raise EdgeError("--events -: stdout is closed")
        sys.stdout.flush()
        return EventWriter(LineStream(sys.stdout.fileno(), "<stdout>"), labels, on_closed=on_closed)
    return EventWriter(EventFile(Path(path).expanduser()), labels, owned=True)
