#!/usr/bin/env bash
# A/B: runs a command without and with the parklock preload, alternating,
# and prints the wall times side by side with their medians and the ratio.
# The two modes must also print the same stdout (a program whose output
# depends on timing can pass --any-output).
#
#   scripts/ab.sh [--runs N] [--any-output] [--preload PATH] -- command [args...]
set -euo pipefail

runs=5
same_output=1
preload="$(cd "$(dirname "$0")/.." && pwd)/${BUILD_DIR:-build}/lib/libparklock.so"
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --any-output) same_output=0; shift ;;
    --preload) preload=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "ab.sh: unknown option '$1' (the command goes after --)" >&2; exit 2 ;;
  esac
done
(($#)) || { echo "usage: ab.sh [--runs N] [--any-output] [--preload PATH] -- command [args...]" >&2; exit 2; }
[[ -f $preload ]] || { echo "ab.sh: no preload at $preload (build first)" >&2; exit 2; }

out_dir=$(mktemp -d)
trap 'rm -rf "$out_dir"' EXIT

# Runs "$@" once in mode $1 (glibc | parklock); prints the wall time in ms.
run_once() {
  local mode=$1 run=$2; shift 2
  local start end
  start=$(date +%s%N)
  if [[ $mode == parklock ]]; then
    LD_PRELOAD="$preload" "$@" >"$out_dir/$mode.$run.out"
  else
    "$@" >"$out_dir/$mode.$run.out"
  fi
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

declare -a glibc_ms parklock_ms
printf '%-5s %12s %12s\n' run "glibc ms" "parklock ms"
for ((i = 1; i <= runs; i++)); do
  glibc_ms+=("$(run_once glibc "$i" "$@")")
  parklock_ms+=("$(run_once parklock "$i" "$@")")
  printf '%-5d %12d %12d\n' "$i" "${glibc_ms[-1]}" "${parklock_ms[-1]}"
  if ((same_output)) && ! cmp -s "$out_dir/glibc.$i.out" "$out_dir/parklock.$i.out"; then
    echo "ab.sh: run $i: outputs differ between glibc and parklock" >&2
    diff "$out_dir/glibc.$i.out" "$out_dir/parklock.$i.out" | head -20 >&2
    exit 1
  fi
done
g=$(printf '%s\n' "${glibc_ms[@]}" | median)
p=$(printf '%s\n' "${parklock_ms[@]}" | median)
printf '%-5s %12s %12s\n' median "$g" "$p"
awk -v g="$g" -v p="$p" 'BEGIN {printf "parklock / glibc wall time: %.2f (below 1: faster under parklock)\n", p / g}'
