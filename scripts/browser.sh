#!/usr/bin/env bash
# Make sure Debian's chromium is at /usr/bin/chromium for the browser tests (Playwright for
# Python drives it; Playwright's own browser download is never used). Idempotent: does
# nothing when chromium is there. Installing needs root (CI runs as root) and apt-get.
#   scripts/browser.sh
set -euo pipefail
CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "browser.sh: $CHROMIUM is missing and apt-get is not available; install chromium" \
       "so that $CHROMIUM exists" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "browser.sh: $CHROMIUM is missing; installing it needs root:" \
       "sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium" >&2
  exit 1
fi
echo "browser.sh: installing chromium (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }; then
  echo "browser.sh: apt-get could not install chromium" >&2
  exit 1
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "browser.sh: chromium installed but $CHROMIUM is missing" >&2
  exit 1
fi
"$CHROMIUM" --version >&2 || { echo "browser.sh: $CHROMIUM does not run" >&2; exit 1; }
