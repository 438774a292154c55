"""systemd ``sd_notify`` in the standard library (no python3-systemd or sdnotify needed).

``notify("READY=1")`` sends one datagram to ``$NOTIFY_SOCKET`` (``@`` = abstract namespace);
without that variable (not under systemd) it does nothing. ``Watchdog.ping()`` sends
``WATCHDOG=1`` at most every half ``$WATCHDOG_USEC``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


def notify(message: str, env: Mapping[str, str] = os.environ) -> bool:
    """Send ``message`` to systemd; True when sent."""
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        log.warning("sd_notify %r failed: %s", message, exc)
        return False
    return True


class Watchdog:
    """Pings the systemd watchdog from the frame loop, at most every half interval."""

    def __init__(
        self, env: Mapping[str, str] = os.environ, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.env = env
        self.clock = clock
        usec = int(env.get("WATCHDOG_USEC", "0") or 0)
        pid = env.get("WATCHDOG_PID")
        self.enabled = usec > 0 and (pid is None or pid == str(os.getpid()))
        self.interval = usec / 2e6
        self._last = float("-inf")

    def ping(self) -> None:
        if self.enabled and self.clock() - self._last >= self.interval:
            notify("WATCHDOG=1", self.env)
            self._last = self.clock()
