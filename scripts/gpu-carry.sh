#!/usr/bin/env bash
# Run on the development machine before sending the tree to a GPU machine
# that has nvcc, cmake, ninja, g++ and PyTorch but no Debian dev packages:
# gathers into .gpu-carry/ (git-ignored) what scripts/gpu-check.sh needs
# there and cannot install: the GoogleTest sources (from libgtest-dev's
# /usr/src/googletest), the PyTorch baseline decode_graph.py (from the
# shared anchors beside the checkout, or ANCHOR=path), and the lock
# benchmarks built here with their Google Benchmark library.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .gpu-carry
mkdir -p .gpu-carry
cp -r "${GTEST_SRC:-/usr/src/googletest}" .gpu-carry/googletest
anchor=${ANCHOR:-}
for candidate in shared/anchors/gpu/decode_graph.py ../shared/anchors/gpu/decode_graph.py \
                 /work/shared/anchors/gpu/decode_graph.py; do
  if [[ -z "$anchor" && -f "$candidate" ]]; then anchor=$candidate; fi
done
if [[ -n "$anchor" ]]; then
  cp "$anchor" .gpu-carry/decode_graph.py
else
  echo "gpu-carry: decode_graph.py not found (set ANCHOR=path); the baseline will be skipped" >&2
fi
# The lock benchmarks as built here (Google Benchmark is not on the GPU
# machine): the 16-core scaling figures, glibc and parklock side by side.
if [[ -x build/bin/mutex_bench ]]; then
  mkdir -p .gpu-carry/lock-bench
  for bench in mutex_bench condvar_bench rwlock_bench; do cp "build/bin/$bench" .gpu-carry/lock-bench/; done
  cp "$(ldd build/bin/mutex_bench | awk '/libbenchmark/ {print $3}')" .gpu-carry/lock-bench/
else
  echo "gpu-carry: build/bin/mutex_bench not built; the lock scaling figures will be skipped" >&2
fi
du -sh .gpu-carry
