#!/bin/sh
# Install the emotion-edge daemon on Raspberry Pi OS (or Debian) Bookworm or Trixie, 64-bit.
# Run from a checkout:
#   sudo sh systemd/install.sh              install, or update code, venv, config mode and unit
#   sh systemd/install.sh --preflight       only the release/architecture check; changes nothing
#   sudo sh systemd/install.sh --check      only the checks that end an install
# Anything but 64-bit Bookworm/Trixie is refused before the system is changed.
# Edge TPU runtime: install the libedgetpu pair for your release first, see systemd/INSTALL.md.
set -eu

PREFIX=/opt/emotion-edge
SERVICE_USER=emotion-edge
ETC=/etc/emotion-edge
UNIT_DIR=/etc/systemd/system
DROPIN=$UNIT_DIR/emotion-edge.service.d/50-sinks.conf
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=$PREFIX/.venv/bin/python
# Test seams: the release file and the dpkg architecture.
OS_RELEASE=${OS_RELEASE:-/etc/os-release}

refuse() {
    echo "install.sh: refusing to install: $*" >&2
    exit 1
}

# Sets CODENAME, or refuses with one line saying why.
preflight() {
    [ -r "$OS_RELEASE" ] || refuse "cannot read $OS_RELEASE to tell the release"
    CODENAME=$(. "$OS_RELEASE" && echo "${VERSION_CODENAME:-unknown}")
    arch=${DPKG_ARCH:-$(dpkg --print-architecture 2>/dev/null || uname -m)}
    case "$arch" in
        arm64 | amd64) ;;
        armhf | armel | i386)
            refuse "32-bit userland ($arch): ai-edge-litert has no 32-bit wheels; use" \
                "Raspberry Pi OS 64-bit (Bookworm or Trixie)" ;;
        *) refuse "architecture $arch is not supported (64-bit arm64 only, amd64 for tests)" ;;
    esac
    case "$CODENAME" in
        bookworm | trixie) ;;
        *) refuse "release '$CODENAME' is not supported: Bookworm (12) or Trixie (13) only" ;;
    esac
}

systemd_running() { # sd_booted(3): false in a chroot or a container without systemd
    [ -d /run/systemd/system ]
}

CHECK_FAILED=0
check() { # check NAME COMMAND...: one OK/FAIL line
    name=$1
    shift
    if out=$("$@" 2>&1); then
        echo "check: OK    $name: $(echo "$out" | tail -n 1)"
    else
        echo "check: FAIL  $name: $(echo "$out" | tail -n 1)"
        CHECK_FAILED=1
    fi
}

from_apt() { # from_apt MODULE: the venv imports MODULE from apt's dist-packages
    "$PY" -c "import sys, $1 as m; f = m.__file__; print(m.__version__, f); \
sys.exit(0 if f.startswith('/usr/lib/python3/dist-packages/') else 'not apt\'s: ' + f)"
}

config_mode() {
    mode=$(stat -c '%a %U:%G' "$ETC/config.toml")
    echo "$ETC/config.toml $mode"
    [ "$mode" = "640 root:$SERVICE_USER" ]
}

sample_run() { # the daemon on the bundled clip, as the service user, with the installed config
    cd "$PREFIX" && runuser -u "$SERVICE_USER" -- "$PY" -m edge run \
        --config "$ETC/config.toml" --source sample --max-frames 20 --events /dev/null \
        --log-level WARNING && echo "20 frames of the sample as $SERVICE_USER"
}

checks() {
    check "numpy from apt" from_apt numpy
    check "cv2 from apt" from_apt cv2
    if dpkg -s python3-picamera2 >/dev/null 2>&1; then
        check "picamera2 imports" "$PY" -c "import picamera2; print(picamera2.__file__)"
    else
        echo "check: SKIP  picamera2 imports: python3-picamera2 not installed (not Raspberry Pi OS)"
    fi
    check "pip check" "$PY" -m pip check --disable-pip-version-check
    check "config readable only by root and $SERVICE_USER" config_mode
    check "sample run" sample_run
    [ "$CHECK_FAILED" = 0 ] || { echo "install.sh: some checks failed" >&2; exit 1; }
}

case "${1:-}" in
    --preflight) preflight && echo "install.sh: $CODENAME $arch: ok"
        exit 0 ;;
    --check) checks; exit 0 ;;
    "") ;;
    *) echo "usage: sudo sh systemd/install.sh [--preflight|--check]" >&2; exit 2 ;;
esac

preflight
[ "$(id -u)" = 0 ] || refuse "run as root (sudo sh $0)"
[ -f "$REPO/constraints-pi-$CODENAME.txt" ] || refuse "no constraints-pi-$CODENAME.txt in $REPO"

# The C-extension stack from apt, all built against apt's numpy; picamera2 on Raspberry Pi OS.
# opencv-data: the Haar cascades (/usr/share/opencv4/haarcascades), not in python3-opencv.
apt-get update
apt-get install -y --no-install-recommends python3-venv python3-pip python3-numpy \
    python3-opencv opencv-data rsync
if apt-cache show python3-picamera2 >/dev/null 2>&1; then
    apt-get install -y --no-install-recommends python3-picamera2
else
    echo "install.sh: python3-picamera2 is not in this system's apt sources (not Raspberry" \
        "Pi OS?): the Pi camera cannot be used, a V4L2 /dev/video0 can"
fi

# Service user and group: no login; video (camera, dma_heap), plugdev (USB Coral), apex (PCIe).
groupadd --system -f apex
getent group plugdev >/dev/null || groupadd --system plugdev
id -u "$SERVICE_USER" >/dev/null 2>&1 || useradd --system --user-group --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin "$SERVICE_USER"
usermod -a -G video,plugdev,apex "$SERVICE_USER"

# Code and venv. --system-site-packages: apt's picamera2, libcamera, numpy and cv2. pip adds only
# what apt lacks (requirements-pi.txt), constrained to this release; a pip numpy or OpenCV left
# by an older install would shadow apt's, so it is removed first.
mkdir -p "$PREFIX"
rsync -a --delete --exclude .git --exclude '.venv*' --exclude runs "$REPO"/ "$PREFIX"/
venv_python=$(readlink -f "$PREFIX/.venv/bin/python3" 2>/dev/null || true)
if [ "$venv_python" != "$(readlink -f /usr/bin/python3)" ]; then
    rm -rf "$PREFIX/.venv" # none yet, or made by another Python (a release upgrade)
    python3 -m venv --system-site-packages "$PREFIX/.venv"
fi
"$PY" -m pip uninstall -y --disable-pip-version-check numpy opencv-python \
    opencv-python-headless opencv-contrib-python opencv-contrib-python-headless 2>&1 |
    grep -v "^WARNING: Skipping" || true
"$PY" -m pip install --disable-pip-version-check --no-input --only-binary=:all: \
    -r "$PREFIX/requirements-pi.txt" -c "$PREFIX/constraints-pi-$CODENAME.txt"
chown -R root:root "$PREFIX"

# Config (kept if present; it may hold the MQTT password): root and the service group only.
install -d -m 0755 "$ETC"
[ -f "$ETC/config.toml" ] || sed \
    -e "s#^path = \"models/#path = \"$PREFIX/models/#" \
    -e "s#^edgetpu_path = \"models/#edgetpu_path = \"$PREFIX/models/#" \
    -e "s#^labels = \"models/#labels = \"$PREFIX/models/#" \
    -e "s#^require_camera = false#require_camera = true #" \
    "$PREFIX/edge/config.example.toml" >"$ETC/config.toml"
chown "root:$SERVICE_USER" "$ETC/config.toml"
chmod 0640 "$ETC/config.toml"

# udev rules, unit, and the network drop-in for [mqtt]/[http] (none when both are off).
install -m 0644 "$PREFIX/systemd/60-emotion-edge-coral.rules" /etc/udev/rules.d/
install -m 0644 "$PREFIX/systemd/emotion-edge.service" "$UNIT_DIR/"
"$PY" "$PREFIX/systemd/dropin.py" "$ETC/config.toml" >"$ETC/.dropin.tmp"
if [ -s "$ETC/.dropin.tmp" ]; then
    install -D -m 0644 "$ETC/.dropin.tmp" "$DROPIN"
    echo "install.sh: [mqtt]/[http] enabled: wrote $DROPIN"
else
    rm -f "$DROPIN"
fi
rm -f "$ETC/.dropin.tmp"

if ! systemd_running; then
    systemctl enable emotion-edge.service
    echo "install.sh: systemd is not running (a chroot?): udev not reloaded, service enabled" \
        "but not started"
else
    udevadm control --reload-rules && udevadm trigger
    systemctl daemon-reload
    systemctl enable emotion-edge.service
    systemctl restart emotion-edge.service
fi

checks
echo "installed; check with: systemctl status emotion-edge; journalctl -u emotion-edge -f"
echo "self-check: sudo -u $SERVICE_USER $PY -m edge selftest --config $ETC/config.toml"
