"""Faults at run time: a disk that fills, idle HTTP clients, the peak-RSS figure (issue 16)."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import resource
import signal
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from edge.bench import peak_rss_mb, rss_mb
from edge.labels import EMOTIONS
from edge.sinks.events import EventFile, EventWriter, open_events
from edge.types import Box, Face, Frame, FrameResult
from tests.fakes import one_hot

FRAME = Frame(np.zeros((8, 8, 3), np.uint8))


def result(n: int, faces: int = 2) -> FrameResult:
    s = one_hot("happy")
    return FrameResult(
        n,
        1000.0 + n,
        tuple(Face(i, Box(10, 20, 30, 40), "happy", "happy", s, s) for i in range(faces)),
    )


def events_in(path: Path) -> list[dict]:
    text = path.read_text()
    assert text == "" or text.endswith("\n"), "the file ends in a cut-off line"
    return [json.loads(line) for line in text.splitlines()]


@contextlib.contextmanager
def file_size_limit(limit: int):
    """RLIMIT_FSIZE for this process: a write past ``limit`` bytes is cut short, then EFBIG
    (a disk that fills mid-line, without root or a mount)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_full_disk_drops_whole_lines_logs_once_and_writing_resumes(tmp_path, caplog):
    path = tmp_path / "ev.jsonl"
    now = [0.0]
    writer = EventWriter(EventFile(path), EMOTIONS, owned=True, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="edge.sinks.events")
    for n in range(3):
        writer.handle(FRAME, result(n))
    line = len(path.read_text()) // 3
    with file_size_limit(path.stat().st_size + line // 2):  # room for half a line
        for n in range(3, 103):
            writer.handle(FRAME, result(n))  # never raises
            now[0] += 1.0  # 100 s of failing: the first ERROR, then one reminder a minute
    assert [e["frame"] for e in events_in(path)] == [0, 1, 2]
    assert writer.dropped == 100 and writer.failing
    records = [r for r in caplog.records if r.name == "edge.sinks.events"]
    assert [r.levelname for r in records] == ["ERROR", "WARNING"]
    assert "File too large" in records[0].getMessage()
    assert "still cannot write" in records[1].getMessage()
    writer.handle(FRAME, result(103))  # space is back
    assert [e["frame"] for e in events_in(path)] == [0, 1, 2, 103]
    assert "writing again; 100 events were dropped" in caplog.records[-1].getMessage()
    writer.close()


def test_stdout_redirected_to_a_file_that_fills_gets_whole_lines_and_no_hole(tmp_path):
    from edge.sinks.events import LineStream

    path = tmp_path / "out.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)  # `> out.jsonl`: no O_APPEND
    writer = EventWriter(LineStream(fd, "<stdout>"), EMOTIONS, owned=True)
    writer.handle(FRAME, result(0))
    with file_size_limit(path.stat().st_size + 50):
        writer.handle(FRAME, result(1))  # 50 bytes written, then EFBIG: taken back
    writer.handle(FRAME, result(2))
    writer.close()
    assert b"\0" not in path.read_bytes()
    assert [e["frame"] for e in events_in(path)] == [0, 2]


class RaisingStream:
    """A text stream whose writes fail with ``ENOSPC`` while ``full``."""

    name = "full.jsonl"

    def __init__(self) -> None:
        self.full, self.lines = True, []

    def write(self, text: str) -> int:
        if self.full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.lines.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_any_stream_error_is_counted_not_raised(caplog):
    stream = RaisingStream()
    writer = EventWriter(stream, EMOTIONS)
    for n in range(5):
        writer.handle(FRAME, result(n))
    stream.full = False
    writer.handle(FRAME, result(5))
    assert writer.dropped == 5 and not writer.failing
    assert [json.loads(s)["frame"] for s in stream.lines] == [5]
    assert sum(r.levelname == "ERROR" for r in caplog.records) == 1


def test_a_line_cut_by_a_crash_is_removed_before_the_next_run_appends(tmp_path, caplog):
    path = tmp_path / "ev.jsonl"
    cut = '{"frame":1,"fa'
    path.write_text('{"frame":0,"faces":[]}\n' + cut)
    writer = open_events(str(path), EMOTIONS)
    writer.handle(FRAME, result(7))
    writer.close()
    assert [e["frame"] for e in events_in(path)] == [0, 7]
    assert f"removed a cut-off last line ({len(cut)} bytes)" in caplog.text


def test_a_file_of_one_cut_line_is_emptied(tmp_path):
    path = tmp_path / "ev.jsonl"
    path.write_text('{"frame":0,' * 10000)  # no newline anywhere, > one 64 KiB chunk
    open_events(str(path), EMOTIONS).close()
    assert path.read_text() == ""


def test_closed_stdout_stops_the_run_without_an_error():
    read, write = os.pipe()
    os.close(read)
    closed = threading.Event()
    writer = EventWriter(_fd_stream(write), EMOTIONS, on_closed=closed.set)
    try:
        writer.handle(FRAME, result(0))  # EPIPE: no exception
        writer.handle(FRAME, result(1))
    finally:
        os.close(write)
    assert closed.is_set() and writer.reader_gone and writer.dropped == 0


def _fd_stream(fd: int):
    from edge.sinks.events import LineStream

    return LineStream(fd, "pipe")


# -- a real full tmpfs, end to end (root with mount only) -------------------------------------


@contextlib.contextmanager
def tiny_tmpfs(folder: Path, size: str = "64k", inodes: int = 0):
    folder.mkdir()
    options = f"size={size}" + (f",nr_inodes={inodes}" if inodes else "")
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        pytest.skip("mount is not available")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=10)


def test_events_on_a_tmpfs_that_fills_then_frees(tmp_path):
    with tiny_tmpfs(tmp_path / "mnt") as mnt:
        path = mnt / "ev.jsonl"
        writer = open_events(str(path), EMOTIONS)
        filler = mnt / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as f:
            f.write(b"x" * 1_000_000)  # fills the 64 kB up to the last page
        for n in range(50):
            writer.handle(FRAME, result(n))
        full = events_in(path)
        filler.unlink()
        for n in range(50, 60):
            writer.handle(FRAME, result(n))
        writer.close()
        got = [e["frame"] for e in events_in(path)]
    assert writer.dropped > 0 and len(full) + writer.dropped == 50
    assert got[-10:] == list(range(50, 60))


def test_a_state_dir_too_full_to_create_the_file_does_not_stop_the_start(tmp_path, caplog):
    with tiny_tmpfs(tmp_path / "mnt", inodes=2) as mnt:  # the root folder and one file
        filler = mnt / "filler"
        filler.touch()
        writer = open_events(str(mnt / "ev.jsonl"), EMOTIONS)  # no exception: the run starts
        writer.handle(FRAME, result(0))
        assert writer.dropped == 1
        filler.unlink()  # an inode is free again: the file is made on the next frame
        writer.handle(FRAME, result(1))
        writer.close()
        assert [e["frame"] for e in events_in(mnt / "ev.jsonl")] == [1]
    assert "No space left on device; the daemon runs on and retries" in caplog.text


# -- health under load ------------------------------------------------------------------------

pytest.importorskip("prometheus_client")
from edge.sinks.http import HttpConfig, WebSink  # noqa: E402
from edge.sinks.metrics import Metrics  # noqa: E402


@pytest.fixture
def web():
    made: list[WebSink] = []

    def make(check=lambda: None, **kw) -> WebSink:
        cfg = HttpConfig(**{"enabled": True, "port": 0, "max_stream_clients": 1, **kw})
        sink = WebSink(cfg, EMOTIONS, Metrics(), lambda: "cpu", check)
        made.append(sink)
        sink.handle(FRAME, result(0))
        return sink

    yield make
    for sink in made:
        sink.close()


def get(sink: WebSink, path: str, timeout: float = 5.0) -> int:
    host, port = sink.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_idle_connections_cannot_starve_healthz(web):
    sink = web(max_clients=8)
    hoard = [socket.create_connection(sink.address) for _ in range(40)]  # send nothing
    try:
        for _ in range(3):
            assert get(sink, "/healthz") == 200
        assert get(sink, "/metrics") == 200
        server = sink._server
        assert server.idle_closed + server.refused >= 32  # each hoarder past 8 displaced one
    finally:
        for s in hoard:
            s.close()


def test_refusals_when_every_slot_is_busy_are_counted_and_logged_once(web, caplog):
    release, entered = threading.Event(), threading.Semaphore(0)

    def check() -> None:  # holds each /healthz request busy until released
        entered.release()
        release.wait(20)

    sink = web(check=check, max_clients=2)
    busy = [threading.Thread(target=get, args=(sink, "/healthz", 30)) for _ in range(2)]
    for t in busy:
        t.start()
    try:
        assert entered.acquire(timeout=10) and entered.acquire(timeout=10)  # both slots busy
        answers = [refused_answer(sink) for _ in range(5)]
    finally:
        release.set()
        for t in busy:
            t.join(30)
    assert all(a.startswith(b"HTTP/1.1 503") for a in answers), answers
    assert sink._server.refused == 5
    assert b"emotion_http_refused_total 5.0" in sink.metrics.render()
    refusals = [r for r in caplog.records if "refusing" in r.getMessage()]
    assert len(refusals) == 1


def refused_answer(sink: WebSink) -> bytes:
    with socket.create_connection(sink.address, timeout=10) as s:
        return s.recv(100)


# -- memory figures ---------------------------------------------------------------------------


def test_peak_rss_is_never_below_the_rss_now():
    block = np.ones(8 * 2**20 // 8)  # 8 MiB touched
    assert peak_rss_mb() >= rss_mb() > 8
    del block


def test_reading_an_image_folder_keeps_nothing_per_frame(tmp_path):
    import tracemalloc

    import cv2

    from edge.sources.files import ImageFolderSource

    for i in range(50):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), np.full((8, 8, 3), i, np.uint8))
    source = ImageFolderSource(tmp_path)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        frames = 0
        while source.read() is not None:
            frames += 1
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    kept = [s for s in after.compare_to(before, "filename") if "pathlib" in str(s.traceback)]
    assert frames == 50 and sum(max(0, s.size_diff) for s in kept) == 0, kept
