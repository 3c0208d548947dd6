#!/bin/bash
# Installs the real programs that tests/programs runs natively and under the
# preload. Idempotent: apt-get skips what is already installed.
set -euo pipefail
packages=(python3 coreutils pigz zstd xz-utils memcached)
sudo=""
[[ $(id -u) == 0 ]] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${packages[@]}"
# The package starts a memcached service where an init system runs; the tests
# start their own on a free port and do not need it.
for p in python3 sort pigz zstd xz memcached; do
  command -v "$p" >/dev/null || { echo "missing after install: $p" >&2; exit 1; }
done
echo "test programs installed: ${packages[*]}"
