#!/usr/bin/env bash
# Headless Chromium + ChromeDriver for the dashboard's end-to-end test (tests/e2e/). Called by scripts/setup.sh.
# In CI (CI set), as root with apt-get available, installs Debian's chromium and chromium-driver quietly.
# Anywhere else it only says how to install them; without them the e2e test skips and says why. Never fails setup.
set -uo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  echo "setup-browser: $(/usr/bin/chromium --version 2>/dev/null | head -1); chromedriver present"
  exit 0
fi

if [ -n "${CI:-}" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup-browser: installing chromium and chromium-driver with apt-get (CI)"
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/tmp/setup-browser.log 2>&1 \
     || { apt-get update -qq >>/tmp/setup-browser.log 2>&1 \
          && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
             >>/tmp/setup-browser.log 2>&1; }; then
    apt-get clean >/dev/null 2>&1 || true
    echo "setup-browser: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
  else
    echo "setup-browser: apt-get install failed (see /tmp/setup-browser.log); the browser test will skip" >&2
  fi
  exit 0
fi

echo "setup-browser: chromium/chromedriver not found; the headless dashboard test will skip." >&2
echo "setup-browser: to run it: sudo apt-get install -y chromium chromium-driver (Debian/Ubuntu)," >&2
echo "setup-browser: or set CHROMIUM_BIN and CHROMEDRIVER_BIN to a matching Chromium and ChromeDriver." >&2
exit 0
