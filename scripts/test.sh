#!/usr/bin/env bash
# Set up everything the tests need (a venv with the train + edge + dev requirements) and run
# lint and the whole test suite. Extra arguments go to pytest, e.g. `scripts/test.sh -k smile`.
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools some tests drive for real: a Mosquitto broker (MQTT), headless Chromium and its
# driver (status page), openssl (TLS test certificates), systemd-analyze (unit checks).
# Installed when missing and we may (root, or passwordless sudo); otherwise those tests skip.
apt_packages=()
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || apt_packages+=(mosquitto)
command -v chromium >/dev/null || apt_packages+=(chromium)
command -v chromedriver >/dev/null || apt_packages+=(chromium-driver)
command -v openssl >/dev/null || apt_packages+=(openssl)
command -v systemd-analyze >/dev/null || apt_packages+=(systemd)
if [ ${#apt_packages[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    if command -v apt-get >/dev/null && { [ -z "$sudo" ] || sudo -n true 2>/dev/null; }; then
        echo "installing ${apt_packages[*]} (apt)" >&2
        $sudo apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${apt_packages[@]}" >/dev/null
    else
        echo "note: ${apt_packages[*]} missing and not installable here; their tests will skip" >&2
    fi
fi
venv="${VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
    -r requirements-train.txt -r requirements-edge.txt -r requirements-dev.txt
export TF_CPP_MIN_LOG_LEVEL=2
"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
exec "$venv/bin/python" -m pytest "$@"
