"""The source seam: ``read() -> Frame | None`` (None at the end of a finite source), ``close()``."""

from __future__ import annotations

from typing import Protocol

from edge.types import Frame


class Source(Protocol):
    """A frame source; fakes need no inheritance.

    ``read`` raises ``SourceReadError`` for a failed read the caller may retry.
    """

    name: str

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...
