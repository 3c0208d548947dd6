#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with CTest:
# first the normal build (everything, the preload into real programs
# included), then the lock algorithms again under AddressSanitizer and
# UndefinedBehaviorSanitizer (a build without the preload and the engine).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}

scripts/setup.sh
scripts/install-test-programs.sh
scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$jobs" --timeout 300

asan_dir=${ASAN_BUILD_DIR:-build-asan}
cmake -S . -B "$asan_dir" -G Ninja -DPARKLOCK_SANITIZE=address,undefined \
  -DPARKLOCK_BUILD_ENGINE=OFF -DPARKLOCK_BUILD_BENCH=OFF
cmake --build "$asan_dir" -j "$jobs"
ctest --test-dir "$asan_dir" --output-on-failure -j "$jobs" --timeout 300
