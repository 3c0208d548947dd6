#!/bin/sh
# Checks that the preload really takes over: natively parklock_version is not
# found; under LD_PRELOAD it is, and every lock entry point the program asks
# the dynamic linker for (default and older symbol versions) resolves into the
# preload, not into libc.
#
# usage: check_preload_active.sh PRELOAD PROGRAM
set -u
if [ $# -ne 2 ]; then
  echo "usage: $0 PRELOAD PROGRAM" >&2
  exit 2
fi
preload=$1
program=$2
lib=$(basename "$preload")

native=$(timeout 60 "$program") || { echo "FAIL: native run failed"; exit 1; }
preloaded=$(LD_PRELOAD="$preload" timeout 60 "$program") || {
  echo "FAIL: preloaded run failed"
  exit 1
}

status=0
if ! printf '%s\n' "$native" | grep -qx 'parklock_version: not found'; then
  echo "FAIL: natively, parklock_version should not be found"
  status=1
fi
if ! printf '%s\n' "$preloaded" | grep -q '^parklock_version: found '; then
  echo "FAIL: under LD_PRELOAD, parklock_version is not found"
  status=1
fi
not_ours=$(printf '%s\n' "$preloaded" | grep ' served by ' | grep -v " served by $lib\$")
if [ -n "$not_ours" ]; then
  echo "FAIL: under LD_PRELOAD these entry points are not served by $lib:"
  printf '%s\n' "$not_ours"
  status=1
fi
[ "$status" -eq 0 ] && echo "PASS: $lib is active"
printf '%s\n' "--- preloaded output" "$preloaded"
exit $status
