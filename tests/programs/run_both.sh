#!/bin/bash
# run_both.sh [--export] LIB WORKLOAD [ARGS...]: runs WORKLOAD natively, then
# again with PRELOAD=LIB in its environment (the workload applies it to the
# program under test only), and requires both runs to succeed with identical
# output. A workload exits 77 when its program is not installed: the test is
# skipped.
# With --export the preloaded run also turns every output of the exporter on
# (a metrics endpoint on a free port, the exit report, the JSON dump; the
# last program under test to exit writes the files), and requires the report
# and a dump that parses, with no warning from parklock on stderr.
set -uo pipefail
export_outputs=false
if [[ ${1:-} == --export ]]; then
  export_outputs=true
  shift
fi
lib=$1
shift
[[ -f $lib ]] || { echo "missing $lib"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for mode in native preloaded; do
  preload=""
  settings=()
  if [[ $mode == preloaded ]]; then
    preload=$lib
    $export_outputs && settings=(PARKLOCK_METRICS=127.0.0.1:0 PARKLOCK_REPORT="$work/report.txt"
                                 PARKLOCK_DUMP="$work/dump.json")
  fi
  mkdir -p "$work/$mode"
  env "${settings[@]}" PRELOAD="$preload" WORKDIR="$work/$mode" "$@" >"$work/$mode.out" 2>"$work/$mode.err"
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
if $export_outputs; then
  if grep "^parklock: " "$work/preloaded.err" | grep -v "^parklock: metrics at http://127.0.0.1:"; then
    echo "parklock warned in the run with its outputs on"
    exit 1
  fi
  [[ -s $work/report.txt ]] || { echo "no exit report"; cat "$work/preloaded.err"; exit 1; }
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert "parklock" in d and "sites" in d, "not a dump"' \
    "$work/dump.json" || { echo "no dump, or not JSON"; exit 1; }
fi
cat "$work/native.out"
$export_outputs && echo "(exit report and dump written)"
exit 0
