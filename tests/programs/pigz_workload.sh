#!/bin/bash
# pigz: parallel deflate (its thread pool is pthread mutexes and condvars).
# -n keeps names and times out of the header, so the compressed bytes are
# deterministic and must match between runs.
set -euo pipefail
source "$(dirname "$0")/under_test.sh"
gen=$1
require pigz sha256sum
"$gen" 1000000 7 >"$WORKDIR/in.txt"
under_test pigz -p 4 -n -b 128 -c "$WORKDIR/in.txt" >"$WORKDIR/in.gz"
under_test pigz -p 4 -d -c "$WORKDIR/in.gz" >"$WORKDIR/back.txt"
cmp "$WORKDIR/in.txt" "$WORKDIR/back.txt"
echo "compressed sha256: $(sha256sum <"$WORKDIR/in.gz" | cut -d' ' -f1)"
echo "round trip sha256: $(sha256sum <"$WORKDIR/back.txt" | cut -d' ' -f1)"
