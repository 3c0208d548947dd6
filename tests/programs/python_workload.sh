#!/bin/bash
# CPython: the GIL (a mutex + condvar) and threading's primitives.
set -euo pipefail
source "$(dirname "$0")/under_test.sh"
python=$1
[[ -x $python ]] || { echo "SKIP: $python is not installed"; exit 77; }
under_test "$python" "$(dirname "$0")/python_threads.py"
