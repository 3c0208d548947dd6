#!/usr/bin/env bash
# Installs the real programs that tests/programs runs natively and under the
# preload. Idempotent: only missing packages are installed.
set -euo pipefail
packages=(python3 coreutils pigz zstd xz-utils memcached)
"$(dirname "$0")/apt-install.sh" "${packages[@]}"
# The package starts a memcached service where an init system runs; the tests
# start their own on a free port and do not need it.
for p in python3 sort pigz zstd xz memcached; do
  command -v "$p" >/dev/null || { echo "missing after install: $p" >&2; exit 1; }
done
echo "test programs installed: ${packages[*]}"
