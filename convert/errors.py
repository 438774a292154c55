"""The one error type of ``convert``: its message is the single line the CLI prints."""

from __future__ import annotations


class ConvertError(RuntimeError):
    """Bad input or a failed step; the message names what and where."""
