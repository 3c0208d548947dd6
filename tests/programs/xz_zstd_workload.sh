#!/bin/bash
# xz or zstd (argument 2) with 4 worker threads, compress and decompress.
set -euo pipefail
source "$(dirname "$0")/under_test.sh"
gen=$1
tool=$2
require "$tool" sha256sum
# xz is the slow one: 250k lines (~4 MB) keep it to a few seconds.
lines=600000
[[ $tool == xz ]] && lines=250000
"$gen" $lines 11 >"$WORKDIR/in.txt"
case $tool in
  xz)
    under_test xz -T4 -2 --block-size=1MiB -c "$WORKDIR/in.txt" >"$WORKDIR/in.z"
    under_test xz -T4 -d -c "$WORKDIR/in.z" >"$WORKDIR/back.txt"
    ;;
  zstd)
    under_test zstd -q -T4 -3 -c "$WORKDIR/in.txt" >"$WORKDIR/in.z"
    under_test zstd -q -T4 -d -c "$WORKDIR/in.z" >"$WORKDIR/back.txt"
    ;;
esac
cmp "$WORKDIR/in.txt" "$WORKDIR/back.txt"
echo "$tool compressed sha256: $(sha256sum <"$WORKDIR/in.z" | cut -d' ' -f1)"
echo "$tool round trip sha256: $(sha256sum <"$WORKDIR/back.txt" | cut -d' ' -f1)"
