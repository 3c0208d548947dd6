#!/bin/bash
# GNU sort's parallel merge (pthread mutexes and condvars) on 2M lines.
set -euo pipefail
source "$(dirname "$0")/under_test.sh"
gen=$1
require sort sha256sum
export LC_ALL=C
"$gen" 2000000 42 >"$WORKDIR/in.txt"
under_test sort --parallel=4 -S 256M "$WORKDIR/in.txt" -o "$WORKDIR/out.txt"
# Correct on its own: ordered, and the same lines (count and byte sum).
sort -c "$WORKDIR/out.txt"
[[ $(wc -l <"$WORKDIR/in.txt") == $(wc -l <"$WORKDIR/out.txt") ]]
[[ $(cksum <"$WORKDIR/in.txt" | cut -d' ' -f2) == $(cksum <"$WORKDIR/out.txt" | cut -d' ' -f2) ]]
echo "sorted lines: $(wc -l <"$WORKDIR/out.txt")"
echo "sha256: $(sha256sum <"$WORKDIR/out.txt" | cut -d' ' -f1)"
