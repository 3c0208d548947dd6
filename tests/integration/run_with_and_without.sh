#!/bin/sh
# Runs a program natively and under LD_PRELOAD=<preload>, each under
# `timeout 60`. Passes when both exit 0 and their standard outputs are
# byte-identical: the preload must not change what a correct program computes.
#
# usage: run_with_and_without.sh PRELOAD PROGRAM [ARGS...]
set -u
if [ $# -lt 2 ]; then
  echo "usage: $0 PRELOAD PROGRAM [ARGS...]" >&2
  exit 2
fi
preload=$1
shift
if [ ! -f "$preload" ]; then
  echo "preload library not found: $preload" >&2
  exit 2
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

timeout 60 "$@" >"$dir/native.out" 2>"$dir/native.err"
native_rc=$?
LD_PRELOAD="$preload" timeout 60 "$@" >"$dir/preload.out" 2>"$dir/preload.err"
preload_rc=$?

status=0
if [ "$native_rc" -ne 0 ]; then
  echo "FAIL: native run exited with $native_rc (124: timed out)"
  status=1
fi
if [ "$preload_rc" -ne 0 ]; then
  echo "FAIL: preloaded run exited with $preload_rc (124: timed out)"
  status=1
fi
if [ ! -s "$dir/native.out" ]; then
  echo "FAIL: the native run printed nothing"
  status=1
fi
if ! cmp -s "$dir/native.out" "$dir/preload.out"; then
  echo "FAIL: outputs differ (native vs preloaded):"
  diff "$dir/native.out" "$dir/preload.out"
  status=1
fi
if [ "$status" -ne 0 ]; then
  for f in native.err preload.err; do
    if [ -s "$dir/$f" ]; then
      echo "--- $f"
      cat "$dir/$f"
    fi
  done
else
  echo "PASS: identical output with and without $preload:"
fi
cat "$dir/native.out"
exit $status
