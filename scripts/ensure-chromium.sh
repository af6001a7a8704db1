#!/usr/bin/env bash
# The explorer's browser tests drive Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH). `npm test` and `.ci/run`
# run this first: on a fresh machine it installs the package (as root, with apt-get); elsewhere it says what is missing.
set -uo pipefail
path="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$path" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests (once)…" >&2
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); then exit 0; fi
fi
echo "chromium is missing at $path and could not be installed here: install Debian's chromium (or set CHROMIUM_PATH); the explorer browser tests will fail" >&2
exit 0
