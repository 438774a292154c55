"""Bad input, the full list (issue 17): each row is one line on stderr, the right exit code and
no traceback, for ``edge``, ``convert`` and ``train``.

Rows that need a read-only file system bind-mount one (root); rows about permissions run the
CLI as ``nobody`` when the test runs as root. Where neither is possible the row is skipped.
Output paths are checked before the model loads: those rows pass a model that does not exist,
so a check made too late would report the model instead.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.labels import EMOTIONS
from tests.edge.conftest import REPO

NO_MODEL = "/nonexistent/emotion_int8.tflite"


@dataclass
class Ctx:
    tmp: Path
    readonly: Callable[[], Path]
    model: Callable[[], Path]
    keep: list  # objects held open for the row's duration (a lock)


def run_cli(capsys, module: str, argv: list[str]) -> tuple[int, list[str], str]:
    main = {
        "edge": lambda a: __import__("edge.cli", fromlist=["main"]).main(a),
        "convert": lambda a: __import__("convert.cli", fromlist=["main"]).main(a),
        "train": lambda a: __import__("train.cli", fromlist=["main"]).main(a),
    }[module]
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse
        rc = exc.code
    err = capsys.readouterr().err
    return rc, [line for line in err.splitlines() if line.strip()], err


@contextlib.contextmanager
def readonly_dir(base: Path) -> Iterator[Path]:
    """A read-only bind mount of an empty folder, or a skip."""
    src, dst = base / "ro-src", base / "ro"
    src.mkdir()
    dst.mkdir()
    (src / "existing.csv").write_text("a\n")
    cmds = [["mount", "--bind", str(src), str(dst)], ["mount", "-o", "remount,bind,ro", str(dst)]]
    mounted = False
    try:
        for cmd in cmds:
            try:
                done = subprocess.run(cmd, capture_output=True, timeout=10)
            except (OSError, subprocess.SubprocessError):
                pytest.skip("mount is not available")
            if done.returncode != 0:
                pytest.skip(f"no read-only bind mount here: {done.stderr.decode().strip()}")
            mounted = True
        yield dst
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(dst)], capture_output=True, timeout=10)


@pytest.fixture
def ctx(tmp_path, request):
    with contextlib.ExitStack() as stack:
        keep: list = []
        stack.callback(lambda: [k.close() for k in keep])

        def readonly() -> Path:
            return stack.enter_context(readonly_dir(tmp_path))

        def model() -> Path:
            return request.getfixturevalue("model")

        yield Ctx(tmp_path, readonly, model, keep)


def frames_folder(tmp: Path, n: int = 12) -> Path:
    folder = tmp / "frames"
    folder.mkdir()
    for i in range(n):
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.full((120, 160, 3), 60 + i % 100, np.uint8))
    return folder


def labels_config(tmp: Path, names: list[str]) -> list[str]:
    labels = tmp / "bad.labels.txt"
    labels.write_text("".join(f"{n}\n" for n in names))
    cfg = tmp / "c.toml"
    cfg.write_text(f'[model]\nlabels = "{labels}"\n')
    return ["--config", str(cfg)]


def tiny_tmpfs(c: Ctx) -> Path:
    mnt = c.tmp / "full"
    mnt.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(mnt)], capture_output=True
        )
    except OSError:
        pytest.skip("mount is not available")
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    c.keep.append(_Unmount(mnt))
    with contextlib.suppress(OSError), (mnt / "filler").open("wb") as f:
        f.write(b"x" * 100_000)
    return mnt


class _Unmount:
    def __init__(self, path: Path) -> None:
        self.path = path

    def close(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


def held_events(c: Ctx) -> Path:
    from edge.sinks.events import open_events

    path = c.tmp / "ev.jsonl"
    c.keep.append(open_events(str(path), EMOTIONS))  # the first daemon
    return path


def cut_events(c: Ctx) -> Path:
    path = c.tmp / "ev.jsonl"
    path.write_text('{"frame":0,"faces":[]}\n{"frame":1,"fa')
    return path


def damaged_video(c: Ctx) -> Path:
    """An MJPG AVI with random bytes in the middle (OpenCV fails one read, then decodes on)."""
    path = c.tmp / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    for i in range(600):
        frame = np.full((120, 160, 3), i % 255, np.uint8)
        cv2.putText(frame, str(i), (10, 60), 0, 1, (255, 255, 255))
        writer.write(frame)
    writer.release()
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(4)
    pos, size = int(rng.integers(len(data) // 5, len(data) // 2)), int(rng.integers(100, 20000))
    data[pos : pos + size] = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def run_args(c: Ctx, *extra: str, level: str = "ERROR") -> list[str]:
    source = frames_folder(c.tmp)
    model = c.model()
    return ["run", "--log-level", level, "--backend", "cpu", "--model", str(model),
            "--source", str(source), *extra]  # fmt: skip


def no_model(*argv: str) -> list[str]:
    return ["run", "--log-level", "ERROR", "--backend", "cpu", "--model", NO_MODEL, *argv]


def smile_readonly(c: Ctx) -> list[str]:
    cfg = c.tmp / "c.toml"
    cfg.write_text(f'[capture]\ndirectory = "{c.readonly() / "captures"}"\n')
    return [*no_model("--mode", "smile"), "--config", str(cfg)]


# (id, CLI, argv from the context, exit code, text in the one stderr line)
EDGE_ROWS: list[tuple[str, str, Callable[[Ctx], list[str]], int, str]] = [
    ("log-level", "edge", lambda c: ["run", "--log-level", "FOO"], 2, "invalid choice: 'FOO'"),
    ("labels-5", "edge", lambda c: ["run", *labels_config(c.tmp, list(EMOTIONS[:5]))], 1,
     "expected 7 labels, found 5"),
    ("labels-8", "edge", lambda c: ["run", *labels_config(c.tmp, [*EMOTIONS, "calm"])], 1,
     "expected 7 labels, found 8"),
    ("labels-unknown", "edge",
     lambda c: ["run", *labels_config(c.tmp, [*EMOTIONS[:3], "joy", *EMOTIONS[4:]])], 1,
     "label 4 'joy' is not one of angry"),
    ("labels-twice", "edge",
     lambda c: ["run", *labels_config(c.tmp, [*EMOTIONS[:6], "angry"])], 1,
     "label 7 'angry' appears twice"),
    ("events-directory", "edge", lambda c: no_model("--events", str(c.tmp)), 1,
     "Is a directory"),
    ("events-readonly", "edge", lambda c: no_model("--events", str(c.readonly() / "ev.jsonl")), 1,
     "Read-only file system"),
    ("events-readonly-subfolder", "edge",
     lambda c: no_model("--events", str(c.readonly() / "sub" / "ev.jsonl")), 1,
     "Read-only file system"),
    ("events-second-writer", "edge", lambda c: no_model("--events", str(held_events(c))), 1,
     "in use by another process"),
    ("capture-readonly", "edge", smile_readonly, 1,
     "cannot write capture.directory"),
    ("bench-out-readonly", "edge",
     lambda c: ["bench", "--backend", "cpu", "--model", NO_MODEL, "--log-level", "ERROR",
                "--out", str(c.readonly() / "b.csv")], 1, "cannot write --out"),
    ("bench-compare-missing", "edge",
     lambda c: ["bench", "--backend", "cpu", "--model", NO_MODEL, "--log-level", "ERROR",
                "--compare", str(c.tmp / "nope.csv")], 1, "--compare"),
    ("events-disk-full", "edge", lambda c: run_args(c, "--events", str(tiny_tmpfs(c) / "e")), 0,
     "cannot write (No space left on device)"),
    ("events-cut-off-line", "edge",
     lambda c: run_args(c, "--events", str(cut_events(c)), level="WARNING"), 0,
     "removed a cut-off last line"),
    ("video-damaged", "edge",
     lambda c: [*run_args(c, level="WARNING")[:-1], str(damaged_video(c))], 0,
     "of 600 frames"),
]  # fmt: skip


def write_classes(root: Path, empty: str = "") -> Path:
    for split in ("train", "val"):
        for name in EMOTIONS:
            folder = root / split / name
            folder.mkdir(parents=True)
            if name != empty:
                cv2.imwrite(str(folder / "0.png"), np.full((48, 48), 128, np.uint8))
    return root


def bad_csv(c: Ctx, row: str) -> Path:
    good = " ".join(["7"] * 48 * 48)
    lines = ["emotion,pixels,Usage"] + [f"{k},{good},Training" for k in range(7)]
    lines += [f"{k},{good},PublicTest" for k in range(7)]
    lines.insert(4, row)
    path = c.tmp / "fer2013.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def empty_model(c: Ctx) -> str:
    path = c.tmp / "m.keras"
    path.write_bytes(b"")
    return str(path)


TOOL_ROWS: list[tuple[str, str, Callable[[Ctx], list[str]], int, str]] = [
    ("convert-bad-flag", "convert", lambda c: ["convert", "m.keras", "--max-drop", "x"], 2,
     "argument --max-drop: invalid float value"),
    ("convert-no-data", "convert",
     lambda c: [empty_model(c), "--data", str(c.tmp / "nope"), "--out", str(c.tmp)], 1,
     "no such data folder"),
    ("convert-empty-class", "convert",
     lambda c: [empty_model(c), "--data", str(write_classes(c.tmp / "fer", "fear")), "--out",
                str(c.tmp / "o")], 1, "fear has no images"),
    ("convert-out-readonly", "convert",
     lambda c: [empty_model(c), "--data", str(write_classes(c.tmp / "fer")), "--out",
                str(c.readonly() / "models")], 1, "cannot write --out"),
    ("convert-bad-name", "convert",
     lambda c: [empty_model(c), "--data", str(write_classes(c.tmp / "fer")), "--out",
                str(c.tmp / "o"), "--name", "../fast"], 1, "--name '../fast': use letters"),
    ("convert-latency-json-readonly", "convert",
     lambda c: ["latency", "m.tflite", "--json", str(c.readonly() / "l.json")], 1,
     "cannot write --json"),
    ("convert-latency-not-a-model", "convert",
     lambda c: ["latency", str(write_bytes(c.tmp / "m.tflite", b"TFL3" * 64)), "--runs", "2"],
     1, "cannot load the model"),
    ("convert-latency-runs-0", "convert", lambda c: ["latency", "m.tflite", "--runs", "0"], 2,
     "argument --runs: must be >= 1, got 0"),
    ("train-bad-flag", "train", lambda c: ["fit", "--out", "x"], 2,
     "the following arguments are required: --data"),
    ("train-batch-size-0", "train", lambda c: ["fit", "--data", "d", "--out", "o",
                                                "--batch-size", "0"], 2,
     "argument --batch-size: must be >= 1, got 0"),
    ("train-no-data", "train",
     lambda c: ["fit", "--data", str(c.tmp / "nope"), "--out", str(c.tmp / "run")], 1,
     "no such data folder or CSV file"),
    ("train-init-missing", "train",
     lambda c: ["fit", "--data", str(c.tmp), "--out", str(c.tmp / "run"), "--init",
                str(c.tmp / "none.keras")], 1, "none.keras: no such model file"),
    ("train-empty-class", "train",
     lambda c: ["evaluate", "--model", empty_model(c), "--data",
                str(write_classes(c.tmp / "fer", "sad"))], 1, "class 'sad' has no images"),
    ("train-csv-short-row", "train",
     lambda c: ["evaluate", "--model", empty_model(c), "--data",
                str(bad_csv(c, "3,1 2 3")), "--split", "train"], 1,
     "fer2013.csv:5: expected 3 fields, found 2"),
    ("train-csv-bad-pixels", "train",
     lambda c: ["evaluate", "--model", empty_model(c), "--data",
                str(bad_csv(c, "3,1 2 3,Training")), "--split", "train"], 1,
     "fer2013.csv:5: expected 2304 pixels, found 3"),
    ("train-csv-huge-field", "train",
     lambda c: ["evaluate", "--model", empty_model(c), "--data",
                str(bad_csv(c, "3," + "1" * 200_000 + ",Training")), "--split", "train"], 1,
     "not a readable CSV row (field larger than field limit"),
    ("train-out-readonly", "train",
     lambda c: ["fit", "--data", str(c.tmp), "--out", str(c.readonly() / "run")], 1,
     "cannot write --out"),
    ("train-export-readonly", "train",
     lambda c: ["export", empty_model(c), str(c.readonly() / "m.keras")], 1,
     "cannot write DEST"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("cli", "argv", "rc", "text"),
    [pytest.param(*row[1:], id=row[0]) for row in EDGE_ROWS + TOOL_ROWS],
)
def test_bad_input_is_one_line(capsys, ctx, cli, argv, rc, text):
    got_rc, lines, err = run_cli(capsys, cli, argv(ctx))
    assert "Traceback" not in err
    assert got_rc == rc, err
    assert len(lines) == 1, lines
    assert text in lines[0], lines[0]


def test_events_in_a_folder_the_user_may_not_write(tmp_path, capsys):
    locked = Path(tempfile.mkdtemp(prefix="edge-locked-"))
    try:
        locked.chmod(0o555)
        argv = no_model("--events", str(locked / "ev.jsonl"))
        if os.geteuid() != 0:
            rc, lines, err = run_cli(capsys, "edge", argv)
        else:  # root writes anywhere: run the CLI as nobody
            try:
                done = subprocess.run(
                    ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                     sys.executable, "-m", "edge", *argv],
                    cwd=REPO, capture_output=True, text=True, timeout=120,
                )  # fmt: skip
            except (OSError, subprocess.SubprocessError):
                pytest.skip("setpriv is not available")
            rc, err = done.returncode, done.stderr
            lines = [line for line in err.splitlines() if line.strip()]
            if "Permission denied" in err and "edge: error" not in err:
                pytest.skip(f"nobody cannot run python from {REPO}")
    finally:
        locked.chmod(0o755)
        locked.rmdir()
    assert "Traceback" not in err
    assert rc == 1 and len(lines) == 1, lines
    assert "Permission denied" in lines[0] and "(--events / events.path)" in lines[0]


def test_a_closed_stdout_ends_the_run_quietly(model, tmp_path):
    source = frames_folder(tmp_path, 200)
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge", "run", "--log-level", "WARNING", "--backend", "cpu",
         "--model", str(model), "--source", str(source), "--events", "-"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    first = proc.stdout.readline()  # `| head -1`
    proc.stdout.close()
    rc = proc.wait(timeout=120)
    err = proc.stderr.read().decode()
    ours = [line for line in err.splitlines() if line and "TensorFlow Lite" not in line]
    assert first.startswith(b'{"frame":0,')
    assert rc == 0 and ours == [], err  # (LiteRT's own INFO line about XNNPACK may remain)


# -- HTTP: a 4xx answer, and at most a rate-limited line in the log -----------------------------

pytest.importorskip("prometheus_client")
from edge.sinks.http import HttpConfig, WebSink  # noqa: E402

TOKEN = "s3cret-t0ken-value"


@pytest.fixture
def sink():
    made = WebSink(HttpConfig(enabled=True, port=0, token=TOKEN, preview=True), EMOTIONS)
    yield made
    made.close()


def raw(sink: WebSink, data: bytes) -> bytes:
    import socket

    with socket.create_connection(sink.address, timeout=10) as s:
        s.sendall(data)
        return s.recv(200)


@pytest.mark.parametrize(
    "path",
    [b"/capture/\xb2.jpg", b"/capture/" + b"7" * 5000 + b".jpg", b"/capture/-1.jpg"],
    ids=["digit-like-byte", "5000-digits", "negative"],
)
def test_capture_names_that_are_not_numbers_are_404(sink, caplog, path):
    caplog.set_level("DEBUG", logger="edge.sinks.http")
    auth = f"Authorization: Bearer {TOKEN}\r\n".encode()
    answer = raw(sink, b"GET " + path + b" HTTP/1.1\r\n" + auth + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 404"), answer
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]


def test_the_token_never_reaches_the_log(sink, caplog):
    caplog.set_level("DEBUG")
    assert raw(sink, f"GET /healthz?token={TOKEN} HTTP/1.1\r\n\r\n".encode()).startswith(
        b"HTTP/1.1 503"  # authorized; no frame yet
    )
    raw(sink, f"GET /?token={TOKEN} junk junk\r\n\r\n".encode())  # 400, logs the request line
    raw(sink, f"GET /nope HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "token=***" in logged  # the requests were logged...
    assert TOKEN not in logged  # ...without the secret


@pytest.mark.parametrize("gone", [ConnectionResetError, BrokenPipeError])
def test_a_client_that_hangs_up_mid_answer_is_not_a_failure(sink, caplog, gone):
    caplog.set_level("DEBUG", logger="edge.sinks.http")
    try:
        raise gone(104, "Connection reset by peer")
    except OSError:  # handle_error reads the exception being handled, as socketserver calls it
        sink._server.handle_error(None, ("127.0.0.1", 5555))
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]
    assert "went away" in caplog.text
    try:
        raise ValueError("a real bug")
    except ValueError:
        sink._server.handle_error(None, ("127.0.0.1", 5555))
    assert [r for r in caplog.records if r.levelname == "WARNING"]  # still logged
