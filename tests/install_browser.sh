#!/usr/bin/env bash
# The console's browser tests drive Debian's chromium through Debian's chromedriver (the two
# come from one source package, so their versions match). Nothing downloads a browser build.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "the console's browser tests need: sudo apt-get install chromium chromium-driver" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-noto-cjk
