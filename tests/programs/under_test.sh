# Sourced by the workloads: `under_test CMD...` runs the program under test,
# bounded in time, with the preload when run_both.sh asked for it. The
# preload goes to the program alone, not to `timeout` around it (whose exit
# report would otherwise be the last one written).
under_test() {
  if [[ -n ${PRELOAD:-} ]]; then
    timeout 120 env LD_PRELOAD="$PRELOAD" "$@"
  else
    timeout 120 "$@"
  fi
}
require() {  # require PROGRAM...: skip (77) when one is missing
  for p in "$@"; do
    command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p is not installed"; exit 77; }
  done
}
