"""The unit's network drop-in, from the daemon's config: ``python systemd/dropin.py CONFIG``.

The unit alone allows no IP at all (``IPAddressDeny=any``, AF_UNIX/AF_NETLINK only). When
``[mqtt]`` or ``[http]`` is enabled, ``systemd/install.sh`` writes what this prints to
``/etc/systemd/system/emotion-edge.service.d/50-sinks.conf``: AF_INET/AF_INET6 and
``IPAddressAllow=`` for exactly the peers the sinks need:

- ``[mqtt]``: the broker's addresses (a hostname is resolved now, plus the nameservers in
  /etc/resolv.conf so the daemon can resolve it again); loopback for a local broker.
- ``[http]``: loopback when it binds to loopback; else the private LAN ranges its clients come
  from (it has a token then: the config refuses a non-loopback bind without one).

Nothing is printed when neither sink is enabled (install.sh then removes the drop-in). Re-run
install.sh after changing [mqtt] or [http]. Stdlib only; the config is validated by edge.config.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.config import Config, load  # noqa: E402
from edge.errors import EdgeError  # noqa: E402

DROPIN = "/etc/systemd/system/emotion-edge.service.d/50-sinks.conf"
LAN = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10")


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _loopback(host: str) -> bool:
    return host == "localhost" or ((ip := _ip(host)) is not None and ip.is_loopback)


def nameservers(resolv_conf: Path) -> list[str]:
    try:
        lines = resolv_conf.read_text().splitlines()
    except OSError:
        return []
    return [ln.split()[1] for ln in lines if ln.startswith("nameserver") and len(ln.split()) > 1]


def broker_allow(host: str, resolve: Callable[[str], list[str]], resolv_conf: Path) -> list[str]:
    """IPAddressAllow= entries for an MQTT broker at ``host``."""
    if _loopback(host):
        return ["localhost"]
    if (ip := _ip(host)) is not None:
        return [str(ip)]
    try:
        found = resolve(host)
    except OSError as exc:
        raise EdgeError(
            f"[mqtt] host {host!r} does not resolve ({exc}); use an IP address or fix DNS"
        ) from None
    servers = ["localhost" if _loopback(s) else s for s in nameservers(resolv_conf)]
    return sorted(set(found)) + servers


def http_allow(host: str) -> list[str]:
    """IPAddressAllow= entries for the status page bound to ``host``."""
    return ["localhost"] if _loopback(host) else ["localhost", *LAN]


def resolve_host(host: str) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]


def dropin(
    cfg: Config,
    resolve: Callable[[str], list[str]] = resolve_host,
    resolv_conf: Path = Path("/etc/resolv.conf"),
) -> str:
    """The drop-in text, or "" when no network sink is enabled."""
    allow: list[str] = []
    why = []
    if cfg.mqtt.enabled:
        allow += broker_allow(cfg.mqtt.host, resolve, resolv_conf)
        why.append(f"[mqtt] broker {cfg.mqtt.host}:{cfg.mqtt.port}")
    if cfg.http.enabled:
        allow += http_allow(cfg.http.host)
        why.append(f"[http] on {cfg.http.host or '*'}:{cfg.http.port}")
    if not allow:
        return ""
    unique = list(dict.fromkeys(allow))
    return "\n".join(
        [
            "# Written by systemd/install.sh from the daemon's config; re-run it after changing",
            f"# [mqtt] or [http]. Opens: {'; '.join(why)}.",
            "[Unit]",
            "Wants=network-online.target",
            "After=network-online.target",
            "",
            "[Service]",
            "RestrictAddressFamilies=",
            "RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6",
            "IPAddressAllow=" + " ".join(unique),
            "",
        ]
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python systemd/dropin.py CONFIG", file=sys.stderr)
        return 2
    try:
        text = dropin(load(Path(argv[0])))
    except EdgeError as exc:
        print(f"dropin: error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
