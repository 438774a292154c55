#!/usr/bin/env bash
# The Pi install on arm64 Debian Bookworm and Trixie userlands, emulated with qemu-user on an
# x86-64 Debian host (root; slow, so not part of scripts/test.sh or CI):
#   sudo bash scripts/arm64-check.sh [bookworm] [trixie]      (default: both)
# For each release it builds (or reuses) an arm64 tree with mmdebstrap under $ARM64_ROOT, copies
# this checkout in and, inside it (chroot):
#   1. systemd/install.sh: apt stack, user, venv, requirements-pi + constraints, config 0640,
#      unit + udev rules in place, then the install's own checks (numpy/cv2 from apt, pip check,
#      config mode, 20 sample frames as the service user)
#   2. python -m edge run --source sample (every frame's JSON line)
#   3. python -m edge selftest (no camera in a chroot: camera FAIL expected, nothing else)
#   4. the service's `auto` with no camera: exit 1, one line, no sample clip
#   5. the numpy trap with a package of picamera2's shape: apt python3-pywt (a Cython extension
#      built against apt's numpy) imported in a --system-site-packages venv, once where pip
#      upgraded numpy (the old install.sh) and once in the venv install.sh made
# and prints a table row per release. Debian has no python3-picamera2 (Raspberry Pi archive).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
ARM64_ROOT=${ARM64_ROOT:-/var/tmp/emotion-edge-arm64}
RELEASES=(bookworm trixie)
[ $# -eq 0 ] || RELEASES=("$@")
INCLUDE=python3,python3-venv,python3-pip,ca-certificates,python3-numpy,python3-opencv
INCLUDE=$INCLUDE,opencv-data,python3-pywt,rsync,systemd,systemd-sysv,dbus,udev
CA=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}

die() {
    echo "arm64-check: $*" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || die "run as root (sudo bash $0)"
[ "$(uname -m)" = x86_64 ] || [ "$(uname -m)" = aarch64 ] || die "x86-64 or arm64 host only"

setup_emulation() {
    [ "$(uname -m)" = aarch64 ] && return 0
    command -v mmdebstrap >/dev/null && [ -e /usr/libexec/qemu-binfmt/aarch64-binfmt-P ] ||
        apt-get install -y qemu-user-static mmdebstrap >/dev/null
    [ -e /proc/sys/fs/binfmt_misc/register ] ||
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] ||
        cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
}

build_tree() { # build_tree RELEASE DIR: reuse a finished tree, else mmdebstrap one
    local rel=$1 dir=$2
    if [ -f "$dir/.emotion-edge-tree" ]; then
        echo "arm64-check: reusing $dir ($(cat "$dir/.emotion-edge-tree"))"
        return 0
    fi
    rm -rf "$dir.tmp"
    echo "arm64-check: building $dir (several minutes under emulation)"
    nice -n 10 mmdebstrap --arch=arm64 --variant=apt --include="$INCLUDE" "$rel" "$dir.tmp" \
        >"$dir.build.log" 2>&1 || die "mmdebstrap $rel failed: see $dir.build.log"
    mv "$dir.tmp" "$dir"
    echo "$rel arm64 built $(date -u +%FT%TZ) with $INCLUDE" >"$dir/.emotion-edge-tree"
}

MOUNTED=()
unmount_all() {
    local m
    for m in "${MOUNTED[@]}"; do umount -l "$m" 2>/dev/null || true; done
    MOUNTED=()
}
trap unmount_all EXIT

enter() { # enter DIR: mounts, DNS and the host's CA bundle (for pip) in the tree
    local dir=$1
    mountpoint -q "$dir/proc" || { mount -t proc proc "$dir/proc" && MOUNTED+=("$dir/proc"); }
    mountpoint -q "$dir/dev" || { mount --bind /dev "$dir/dev" && MOUNTED+=("$dir/dev"); }
    cp -L /etc/resolv.conf "$dir/etc/resolv.conf"
    cp "$CA" "$dir/etc/ssl/certs/host-ca.crt"
}

in_tree() { # in_tree DIR COMMAND: run a shell command inside the tree
    local dir=$1
    shift
    nice -n 10 chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/host-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
        DEBIAN_FRONTEND=noninteractive TF_CPP_MIN_LOG_LEVEL=2 /bin/sh -c "$*"
}

ROWS=()
check_release() {
    local rel=$1 dir=$ARM64_ROOT/$1 log=$ARM64_ROOT/$1.check.log
    build_tree "$rel" "$dir"
    enter "$dir"
    rm -rf "$dir/root/emotion-edge" && mkdir -p "$dir/root/emotion-edge"
    tar -C "$REPO" --exclude .git --exclude './.venv*' --exclude ./runs --exclude __pycache__ \
        -cf - . | tar -C "$dir/root/emotion-edge" -xf -
    : >"$log"
    local py venv=/opt/emotion-edge/.venv/bin/python cfg=/etc/emotion-edge/config.toml
    py=$(in_tree "$dir" 'python3 -c "import sys; print(sys.version.split()[0])"')
    local apt_np apt_cv
    apt_np=$(in_tree "$dir" 'dpkg-query -W -f="\${Version}" python3-numpy')
    apt_cv=$(in_tree "$dir" 'dpkg-query -W -f="\${Version}" python3-opencv')

    echo "== $rel: install.sh" | tee -a "$log"
    local install=FAIL
    in_tree "$dir" "sh /root/emotion-edge/systemd/install.sh" >>"$log" 2>&1 && install=PASS
    grep '^check: ' "$log" | sed "s/^/  $rel /" || true
    local pip_pkgs
    pip_pkgs=$(in_tree "$dir" "$venv -m pip freeze --local 2>/dev/null" | tr '\n' ' ' || true)

    echo "== $rel: python -m edge run --source sample" | tee -a "$log"
    local lines run=FAIL
    lines=$(in_tree "$dir" "cd /opt/emotion-edge && $venv -m edge run --config $cfg \
        --source sample --events - 2>>/tmp/run.err" | grep -c '^{' || true)
    in_tree "$dir" "cat /tmp/run.err; rm -f /tmp/run.err" >>"$log"
    [ "$lines" -gt 0 ] && run="PASS ($lines events)"

    echo "== $rel: python -m edge selftest" | tee -a "$log"
    local st fails selftest=FAIL
    st=$(in_tree "$dir" "cd /opt/emotion-edge && $venv -m edge selftest --config $cfg \
        --log-level ERROR 2>&1" || true)
    echo "$st" >>"$log"
    fails=$(echo "$st" | grep '^FAIL' | cut -d: -f1 | sed 's/^FAIL *//' | tr '\n' ',' || true)
    [ "$fails" = "camera," ] && echo "$st" | grep -q '^PASS  cpu model' &&
        selftest="PASS (only camera FAILs: none in a chroot)"
    echo "$st" | grep -E '^(PASS|FAIL|SKIP)' | sed "s/^/  $rel /" || true

    echo "== $rel: the service's auto with no camera" | tee -a "$log"
    local svc rc=0 service=FAIL
    svc=$(in_tree "$dir" "cd /opt/emotion-edge && INVOCATION_ID=check NOTIFY_SOCKET=/run/none \
        $venv -m edge run --config $cfg --events - 2>&1") || rc=$?
    echo "$svc" >>"$log"
    [ "$rc" = 1 ] && [ "$(echo "$svc" | grep -c '^edge: error: source auto: no camera')" = 1 ] &&
        ! echo "$svc" | grep -q '^{' && service="PASS (exit 1, one line, no sample)"
    echo "  $rel $(echo "$svc" | grep '^edge: error' || echo "$svc" | tail -n 1)"

    echo "== $rel: numpy trap (apt python3-pywt)" | tee -a "$log"
    local trap_new trap_old
    trap_new=$(in_tree "$dir" "$venv -c 'import numpy, pywt; print(\"imports, numpy\", \
        numpy.__version__)' 2>&1 | tail -n 1")
    trap_old=$(in_tree "$dir" "rm -rf /tmp/oldvenv && python3 -m venv --system-site-packages \
        /tmp/oldvenv && /tmp/oldvenv/bin/pip install -q --upgrade numpy >/dev/null 2>&1 && \
        /tmp/oldvenv/bin/python -c 'import numpy, pywt; print(\"imports, numpy\", \
        numpy.__version__)' 2>&1 | tail -n 1; rm -rf /tmp/oldvenv")
    echo "  $rel pywt in install.sh's venv: $trap_new" | tee -a "$log"
    echo "  $rel pywt after pip install --upgrade numpy: $trap_old" | tee -a "$log"

    ROWS+=("| $rel (Python $py) | numpy $apt_np, opencv $apt_cv | $pip_pkgs | $install |\
 $run | $selftest | $service | old: ${trap_old:0:90} / new: $trap_new |")
    unmount_all
}

setup_emulation
mkdir -p "$ARM64_ROOT"
for rel in "${RELEASES[@]}"; do
    case "$rel" in bookworm | trixie) ;; *) die "unknown release $rel (bookworm, trixie)" ;; esac
    check_release "$rel"
done
echo
echo "| release | apt | pip (venv) | install.sh + checks | run --source sample | selftest |\
 service, no camera | numpy trap: pywt (old venv / install.sh venv) |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
for row in "${ROWS[@]}"; do
    case "$row" in
        *"| FAIL"* | *"new: "[!i]*) die "a check failed (logs: $ARM64_ROOT/*.check.log)" ;;
    esac
done
echo "arm64-check: all passed"
