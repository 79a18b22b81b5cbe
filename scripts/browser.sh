#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests when it is missing.
# Idempotent; fails loudly (non-zero) when it cannot install it: the browser
# tests never skip for a missing browser.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
  exit 0
fi

echo "browser: $CHROMIUM is missing; installing Debian's chromium"
SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "browser: not root and no sudo: install chromium by hand (apt-get install chromium)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends chromium; then
  echo "browser: retrying after apt-get update"
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends chromium
fi

if [[ ! -x "$CHROMIUM" ]]; then
  echo "browser: chromium was installed but $CHROMIUM is not there" >&2
  exit 1
fi
echo "browser: $("$CHROMIUM" --version 2>/dev/null || echo chromium) installed"
