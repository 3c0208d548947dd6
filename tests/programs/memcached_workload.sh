#!/bin/bash
# memcached -t 4 on a free loopback port, loaded by memcached_client (8
# threads x 5000 ops, every reply verified). The server is stopped on every
# exit path.
set -euo pipefail
source "$(dirname "$0")/under_test.sh"
client=$1
require memcached
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
       echo $((20000 + RANDOM % 20000)))
if [[ -n ${PRELOAD:-} ]]; then
  LD_PRELOAD=$PRELOAD memcached -t 4 -l 127.0.0.1 -p "$port" -U 0 -m 64 -u "$(id -un)" &
else
  memcached -t 4 -l 127.0.0.1 -p "$port" -U 0 -m 64 -u "$(id -un)" &
fi
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
if [[ -n ${PRELOAD:-} ]]; then
  sleep 0.2
  grep -q libparklock "/proc/$server/maps" || { echo "memcached did not load the preload"; exit 1; }
fi
timeout 120 "$client" "$port" 8 5000
