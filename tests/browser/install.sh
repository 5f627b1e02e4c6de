#!/usr/bin/env bash
# Installs what tests/browser/drive.mjs needs; safe to run again (idempotent).
#   - Debian's Chromium at /usr/bin/chromium (apt, only when missing)
#   - the pinned npm packages from package-lock.json into tests/browser/node_modules
# Works from any cwd. Needs root (or sudo) for apt, and node >= 20 with npm.
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install.sh: installing chromium with apt-get" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
# (2>/dev/null: Debian's launcher script warns from its /dev/shm size check)
echo "install.sh: $(/usr/bin/chromium --version 2>/dev/null)" >&2

command -v node >/dev/null || { echo "install.sh: node (>= 20) is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "install.sh: npm is required" >&2; exit 1; }

# npm ci installs exactly package-lock.json (and wipes node_modules first).
npm ci --prefix "$DIR" --no-audit --no-fund --prefer-offline
