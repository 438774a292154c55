"""Output paths checked at start, before minutes of work (the three CLIs use it).

``check_writable_file`` / ``check_writable_dir`` turn a bad path into one ``EdgeError`` line.

``unwritable(directory)`` creates and removes a file in the folder (or its nearest existing
parent), the one test that also catches read-only mounts, ACLs and root-squashed shares.
"""

from __future__ import annotations

import errno
import logging
import os
import tempfile
from pathlib import Path

from edge.errors import EdgeError

log = logging.getLogger(__name__)

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


def check_writable_file(path: Path, what: str) -> None:
    """``path`` can be written: its folder takes a new file, it is no folder nor read-only."""
    reason = unwritable_file(path)
    if reason:
        raise EdgeError(f"cannot write {what} ({reason})")


def check_writable_dir(directory: Path, what: str) -> None:
    """A file can be made in ``directory`` (made if missing); a full disk is let through (its
    writer copes at run time).

    Raises:
        EdgeError: naming ``what`` and the reason (a file, read-only, no permission).
    """
    exc = unwritable(directory)
    if exc is not None and exc.errno in FULL:
        log.error("%s %s: %s; starting anyway", what, directory, exc.strerror)
    elif exc is not None:
        raise EdgeError(f"cannot write {what} {directory}: {exc.strerror}")
