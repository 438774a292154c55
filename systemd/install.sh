#!/bin/sh
# Install the emotion-edge daemon on Raspberry Pi OS Bookworm (64-bit). Run from a checkout:
#   sudo sh systemd/install.sh            (re-running updates code, venv and unit in place)
# Edge TPU runtime: install libedgetpu1-std (or -max) first, see systemd/INSTALL.md.
set -eu

PREFIX=/opt/emotion-edge
SERVICE_USER=emotion-edge
REPO=$(cd "$(dirname "$0")/.." && pwd)

[ "$(id -u)" = 0 ] || { echo "run as root (sudo sh $0)" >&2; exit 1; }

apt-get update
apt-get install -y --no-install-recommends python3-venv python3-picamera2 rsync

# Service user: no login, groups video (camera, dma_heap), plugdev (USB Coral), apex (PCIe Coral).
groupadd --system -f apex
getent group plugdev >/dev/null || groupadd --system plugdev
id -u "$SERVICE_USER" >/dev/null 2>&1 || useradd --system --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin "$SERVICE_USER"
usermod -a -G video,plugdev,apex "$SERVICE_USER"

# Code and venv (system site packages: apt's picamera2/libcamera bindings are not on PyPI).
mkdir -p "$PREFIX"
rsync -a --delete --exclude .git --exclude '.venv*' --exclude runs "$REPO"/ "$PREFIX"/
[ -x "$PREFIX/.venv/bin/python" ] || python3 -m venv --system-site-packages "$PREFIX/.venv"
"$PREFIX/.venv/bin/pip" install --upgrade -r "$PREFIX/requirements-edge.txt"
chown -R root:root "$PREFIX"

# Config (kept if present), udev rules, unit.
install -d -m 0755 /etc/emotion-edge
[ -f /etc/emotion-edge/config.toml ] || sed \
    -e "s#^path = \"models/#path = \"$PREFIX/models/#" \
    -e "s#^edgetpu_path = \"models/#edgetpu_path = \"$PREFIX/models/#" \
    -e "s#^labels = \"models/#labels = \"$PREFIX/models/#" \
    "$PREFIX/edge/config.example.toml" > /etc/emotion-edge/config.toml
install -m 0644 "$PREFIX/systemd/60-emotion-edge-coral.rules" /etc/udev/rules.d/
udevadm control --reload-rules && udevadm trigger
install -m 0644 "$PREFIX/systemd/emotion-edge.service" /etc/systemd/system/
systemctl daemon-reload
systemctl enable --now emotion-edge.service

echo "installed; check with: systemctl status emotion-edge; journalctl -u emotion-edge -f"
echo "self-check: sudo -u $SERVICE_USER $PREFIX/.venv/bin/python -m edge selftest --config /etc/emotion-edge/config.toml"
