#!/usr/bin/env bash
# Run on the development machine before sending the tree to a GPU machine
# that has nvcc, cmake, ninja, g++ and PyTorch but no Debian dev packages:
# gathers into .gpu-carry/ (git-ignored) what scripts/gpu-check.sh needs
# there and cannot install: the GoogleTest sources (from libgtest-dev's
# /usr/src/googletest) and the PyTorch baseline decode_graph.py (from the
# shared anchors beside the checkout, or ANCHOR=path).
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
du -sh .gpu-carry
