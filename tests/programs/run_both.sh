#!/bin/bash
# run_both.sh LIB WORKLOAD [ARGS...]: runs WORKLOAD natively, then again with
# PRELOAD=LIB in its environment (the workload applies it to the program under
# test only), and requires both runs to succeed with identical output.
# A workload exits 77 when its program is not installed: the test is skipped.
set -uo pipefail
lib=$1
shift
[[ -f $lib ]] || { echo "missing $lib"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for mode in native preloaded; do
  preload=""
  [[ $mode == preloaded ]] && preload=$lib
  mkdir -p "$work/$mode"
  PRELOAD=$preload WORKDIR=$work/$mode "$@" >"$work/$mode.out" 2>"$work/$mode.err"
  rc=$?
  if [[ $rc == 77 ]]; then
    cat "$work/$mode.out"
    exit 77
  fi
  if [[ $rc != 0 ]]; then
    echo "$mode run failed (exit $rc)"
    cat "$work/$mode.out" "$work/$mode.err"
    exit 1
  fi
  if grep -q "cannot be preloaded" "$work/$mode.err"; then
    echo "$lib was not loaded"
    cat "$work/$mode.err"
    exit 1
  fi
done
if ! diff -u "$work/native.out" "$work/preloaded.out"; then
  echo "outputs differ between the native and the preloaded run"
  exit 1
fi
cat "$work/native.out"
