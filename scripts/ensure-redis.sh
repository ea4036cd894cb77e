#!/usr/bin/env bash
# Makes sure `redis-server` is installed, for the Redis state-store tests (they start their own
# server on a free loopback port, see test/helpers/redis.ts). Idempotent: does nothing when it is
# already on PATH. Debian/Ubuntu via apt-get (with sudo when not root), macOS via Homebrew.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  echo "redis-server present: $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')"
  exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "installing redis-server with apt-get..."
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  # The package may try to start a system service; in containers that just fails quietly.
  $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null 2>&1 \
    || $sudo apt-get install -y --no-install-recommends redis-server
elif command -v brew >/dev/null 2>&1; then
  echo "installing redis with Homebrew..."
  brew install redis >/dev/null
else
  echo "cannot install redis-server here: no apt-get or brew; install it and re-run" >&2
  exit 1
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server still not on PATH after installing" >&2
  exit 1
fi
echo "redis-server installed: $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')"
