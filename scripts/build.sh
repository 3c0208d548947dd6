#!/usr/bin/env bash
# Configures and builds parklock into ${BUILD_DIR:-build} (Release-ish,
# with debug info). Extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -G Ninja "$@"
cmake --build "$build_dir" -j "$jobs"
