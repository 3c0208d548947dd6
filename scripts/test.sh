#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with CTest:
# first the normal build (everything, the preload into real programs
# included), then the lock algorithms again under AddressSanitizer and
# UndefinedBehaviorSanitizer (a build without the preload and the engine),
# and parklock's own rows of the lock suites under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}

scripts/setup.sh
scripts/install-test-programs.sh
scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$jobs" --timeout 300

asan_dir=${ASAN_BUILD_DIR:-build-asan}
cmake -S . -B "$asan_dir" -G Ninja -DPARKLOCK_SANITIZE=address,undefined \
  -DPARKLOCK_BUILD_ENGINE=OFF -DPARKLOCK_BUILD_BENCH=OFF -DPARKLOCK_CUDA=OFF
cmake --build "$asan_dir" -j "$jobs"
ctest --test-dir "$asan_dir" --output-on-failure -j "$jobs" --timeout 300

# ThreadSanitizer: parklock's rows only (glibc's own locks are not under
# test). Left out: fork tests (TSan does not follow a multithreaded fork)
# and the process-shared condvar bridge, which calls glibc's cond_wait past TSan's
# interceptors, so TSan cannot see it release the mutex.
tsan_dir=${TSAN_BUILD_DIR:-build-tsan}
cmake -S . -B "$tsan_dir" -G Ninja -DPARKLOCK_SANITIZE=thread \
  -DPARKLOCK_BUILD_ENGINE=OFF -DPARKLOCK_BUILD_BENCH=OFF -DPARKLOCK_CUDA=OFF
cmake --build "$tsan_dir" -j "$jobs"
ctest --test-dir "$tsan_dir" --output-on-failure -j "$jobs" --timeout 300 \
  -R '/parklock$|^parking_lot[.]|^recorder[.]' -E 'ProcessSharedCondvarWithPrivateMutex|[Ff]ork'
