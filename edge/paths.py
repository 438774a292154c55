"""Output paths checked at start, before minutes of work (stdlib only: the three CLIs use it).

``unwritable(directory)`` makes the folder and creates and removes a file in it, which is the
only test that also catches read-only mounts, ACLs and root-squashed shares.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

FULL = (errno.ENOSPC, errno.EDQUOT)  # a full disk: a run-time fault, not a bad path


def unwritable(directory: Path) -> OSError | None:
    """None if a file can be created in ``directory`` (made if missing), else the error."""
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix=".write-test-")
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        return exc
    return None


def unwritable_file(path: Path) -> str | None:
    """Why ``path`` cannot be (over)written, or None; a full disk is not a reason here."""
    path = Path(path)
    exc = unwritable(path.parent)
    if exc is not None and exc.errno not in FULL:
        return f"{path.parent}: {exc.strerror}"
    if path.is_dir():
        return f"{path}: is a directory"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path}: not writable"
    return None
