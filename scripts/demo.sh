#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs contended
# workloads without and with the preload, side by side.
#   1. lock_storm: a queue + condvar + shared-table program (bench/lock_storm.cpp);
#   2. the bundled inference engine on its CPU backend: in-process clients
#      hammering its request queue, scheduler and KV block manager.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build_dir=${BUILD_DIR:-build}
preload="$PWD/$build_dir/lib/libparklock.so"
export BUILD_DIR=$build_dir

echo "== lock_storm (queue + condvars + shared table, 4 producers, 8 workers)"
"$build_dir/bin/parklock" ab --runs 3 --same-output --plot "$build_dir/lock_storm-ab.png" \
  -- "$build_dir/bin/lock_storm" --producers=4 --workers=8 --jobs=200000

engine="$build_dir/bin/parklock-engine"
echo "== parklock-engine bench (tiny model, CPU backend, 16 in-process clients)"
for mode in glibc parklock; do
  echo "-- $mode"
  args=(bench --config tiny --clients 16 --requests 512 --max-tokens 32 --gemm-threads 1)
  if [[ $mode == parklock ]]; then
    LD_PRELOAD="$preload" "$engine" "${args[@]}"
  else
    "$engine" "${args[@]}"
  fi
done
