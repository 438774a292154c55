"""Atomic file writes: a reader never meets a half-written file under its final name.

One implementation for the daemon (smile stills and sidecars), ``convert`` (models, reports)
and ``train`` (checkpoints' state): the data goes to a hidden temporary file in the same folder,
is fsynced, then ``os.replace``-d over the final name (atomic on POSIX). Standard library only.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_atomic(path: Path, data: bytes | str, mode: int = 0o644, umask: bool = True) -> Path:
    """Write ``data`` to ``.<name>.tmp`` beside ``path``, fsync it, rename it over ``path``;
    the folder is made if missing. One writer per path (the temporary name is fixed, so a crash
    leaves one ``.*.tmp`` to clean up, not many).

    Args:
        mode: the new file's permission bits. With ``umask`` (the default) the process umask
            applies as to any new file (the service's ``UMask=0077`` keeps smile stills
            private); without it ``mode`` is set exactly (a model the daemon's user must read).

    Raises:
        OSError: the temporary file is removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode() if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
        try:
            if not umask:
                os.fchmod(fd, mode)
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        replace_synced(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def replace_synced(tmp: Path, path: Path) -> None:
    """fsync ``tmp`` (written by someone else, e.g. ``keras.Model.save``), then rename it over
    ``path``."""
    fd = os.open(tmp, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def fsync_dir(directory: Path) -> None:
    """Make the renames in ``directory`` durable (best effort: some filesystems refuse)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
