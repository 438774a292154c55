"""Output paths checked at start, before minutes of work (stdlib only: the three CLIs use it).

``unwritable(directory)`` creates and removes a file in the folder (or its nearest existing
parent), the one test that also catches read-only mounts, ACLs and root-squashed shares.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

FULL = (errno.ENOSPC, errno.EDQUOT)  # a full disk: a run-time fault, not a bad path


def unwritable(directory: Path) -> OSError | None:
    """None if a file can be created in ``directory``, else the error. A folder not made yet is
    judged by its nearest existing parent; nothing is left behind (the check makes no folder)."""
    folder = Path(directory).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".write-test-")
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
        return f"{exc.filename or path.parent}: {exc.strerror}"
    if path.is_dir():
        return f"{path}: is a directory"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path}: not writable"
    return None
