"""Test isolation shared by every folder."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def root_logger_as_found() -> Iterator[None]:
    """Undo the handlers a CLI's ``logging.basicConfig`` added during a test.

    A handler added inside a test holds that test's captured stderr; once the test ends the stream
    is closed, and the next CLI run in the same process would log into it ("I/O operation on closed
    file") instead of configuring logging afresh, as a real process does.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
