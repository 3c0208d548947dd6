#!/usr/bin/env bash
# The GPU machine's whole check, in one call of about 10 minutes or less:
# runs the lock benchmarks carried from here at 1 to 16 threads, builds the
# CUDA-only subset (PARKLOCK_CUDA_ONLY: kernels, the engine's
# model and serving libraries as CPU references, the CUDA tests and the
# benchmark; no OpenBLAS, Google Benchmark or installed GoogleTest needed),
# runs the parity tests (kernels, the whole model, and the engine's CUDA
# backend against its CPU backend: CudaBackendParity.*), the decode
# benchmark and the PyTorch baseline (decode_graph.py) in the same sitting,
# then the kernel tests under compute-sanitizer, and prints one summary last.
#
# Prepare on the development machine with scripts/gpu-carry.sh, then send
# the tree with .gpu-carry carried; full logs and JSON go to $OUT (or
# /tmp/gpu-check).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
build=${BUILD_DIR:-build-gpu}
export PYTHONUNBUFFERED=1

gtest_src=${GTEST_SOURCE_DIR:-}
for candidate in .gpu-carry/googletest /usr/src/googletest; do
  if [[ -z "$gtest_src" && -f "$candidate/CMakeLists.txt" ]]; then gtest_src=$PWD/$candidate; fi
done
anchor=${ANCHOR:-}
for candidate in .gpu-carry/decode_graph.py shared/anchors/gpu/decode_graph.py ../shared/anchors/gpu/decode_graph.py; do
  if [[ -z "$anchor" && -f "$candidate" ]]; then anchor=$candidate; fi
done

nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem --format=csv 2>&1 | tee "$out/nvidia-smi.txt"

# First, while the machine is idle: the lock benchmarks' thread sweep
# (1 to 16 threads), glibc and parklock side by side, from .gpu-carry.
status_locks=skipped
if [[ -x .gpu-carry/lock-bench/mutex_bench ]]; then
  status_locks=ok
  for bench in mutex_bench condvar_bench rwlock_bench; do
    LD_LIBRARY_PATH=$PWD/.gpu-carry/lock-bench timeout 90 ".gpu-carry/lock-bench/$bench" \
      --benchmark_repetitions=3 --benchmark_report_aggregates_only=true > "$out/$bench.txt" 2>&1 ||
      status_locks=failed
    sed -n '/parklock vs glibc/,$p' "$out/$bench.txt"
  done
fi

status_build=ok
{
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARKLOCK_CUDA=ON -DPARKLOCK_CUDA_ONLY=ON \
    ${gtest_src:+-DPARKLOCK_GTEST_SOURCE_DIR=$gtest_src} &&
    timeout 300 cmake --build "$build" -j "$(nproc)" --target parklock_kernels_cuda_tests cuda_decode_bench
} > "$out/build.log" 2>&1 || status_build=failed
tail -5 "$out/build.log"

status_tests=skipped status_bench=skipped status_torch=skipped
if [[ $status_build == ok ]]; then
  timeout 240 "$build/bin/parklock_kernels_cuda_tests" --gtest_output="json:$out/parity.json" \
    > "$out/parity.log" 2>&1 && status_tests=ok || status_tests=failed
  # The same binary with every device hidden must skip all GPU tests.
  CUDA_VISIBLE_DEVICES=-1 timeout 60 "$build/bin/parklock_kernels_cuda_tests" > "$out/hidden.log" 2>&1 ||
    status_tests=failed
  timeout 240 "$build/bin/cuda_decode_bench" --json="$out/bench.json" > "$out/bench.log" 2>&1 &&
    status_bench=ok || status_bench=failed
fi
if [[ -n "$anchor" ]]; then
  OUT=$out timeout 180 python3 "$anchor" > "$out/torch.log" 2>&1 && status_torch=ok || status_torch=failed
fi

# Last, as it is the slowest and optional: the kernel tests under
# compute-sanitizer's memcheck (out-of-bounds and misaligned accesses).
# The filter leaves out the longest tests, whose kernels the others cover.
# SANITIZE=0 skips it.
status_memcheck=skipped
if [[ $status_build == ok && ${SANITIZE:-1} == 1 ]] && command -v compute-sanitizer > /dev/null; then
  timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 "$build/bin/parklock_kernels_cuda_tests" \
    --gtest_filter='-CudaLlamaParity.BatchedEqualsUnbatched:Sampling.DrawsFollowTheTruncatedSoftmax:CudaBackendParity.EngineGreedyOutputAgreesWithTheCpuBackend' \
    > "$out/memcheck.log" 2>&1 && status_memcheck=ok || status_memcheck=failed
fi

python3 scripts/gpu_check_summary.py "$out" "locks=$status_locks" "build=$status_build" "tests=$status_tests" \
  "bench=$status_bench" "torch=$status_torch" "memcheck=$status_memcheck"
