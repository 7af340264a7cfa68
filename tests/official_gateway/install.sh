#!/usr/bin/env bash
# Install the official Wechaty gateway (npm packages pinned in package-lock.json) into
# tests/official_gateway/node_modules. Idempotent: does nothing when node_modules is already
# installed from the current lock file; pass --force to reinstall. Safe to run concurrently
# (the harness runs it from tests too): a lock serialises installs.
set -euo pipefail
cd "$(dirname "$0")"

installed() {
  # npm writes node_modules/.package-lock.json at the end of a successful install; older than
  # package-lock.json means the lock changed since (e.g. a version bump pulled from git).
  [[ node_modules/.package-lock.json -nt package-lock.json ]]
}

exec 9<.   # lock this directory itself: no lock file to clean up or ignore
flock 9
if [[ "${1:-}" != "--force" ]] && installed; then
  exit 0
fi
command -v npm >/dev/null || { echo "install.sh: npm not found (needs Node.js >= 18)" >&2; exit 1; }
# .npmrc sets legacy-peer-deps: see the comment there.
npm ci --no-audit --no-fund
