"""The daemon's error hierarchy: each leaf is also a builtin, so callers may catch either."""

from __future__ import annotations

from collections.abc import Callable


class EdgeError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits 1."""


class ConfigError(EdgeError, ValueError):
    """A bad or unknown configuration key; the message names the key."""


class ModelError(EdgeError, ValueError):
    """A model file that is missing, corrupt or of the wrong shape/type."""


class BackendUnavailable(EdgeError, RuntimeError):
    """The requested inference backend (e.g. the Edge TPU) cannot be used."""


class SourceUnavailable(EdgeError, OSError):
    """The frame source cannot be opened (no camera, unreadable video...)."""


class SourceReadError(EdgeError, OSError):
    """One failed read from an open source; the pipeline retries a bounded number of times."""


def config_check(section: str = "") -> Callable[[bool, str, str], None]:
    """A validator for one config section: ``check(ok, key, rule)`` raises
    ``ConfigError("<section>.<key> must be <rule>")`` unless ``ok``."""
    prefix = f"{section}." if section else ""

    def check(ok: bool, key: str, rule: str) -> None:
        if not ok:
            raise ConfigError(f"{prefix}{key} must be {rule}")

    return check
