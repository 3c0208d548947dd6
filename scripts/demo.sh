#!/usr/bin/env bash
# The main job, from a fresh clone on Debian 12:
#   1. installs what is missing (apt) and builds what the demo runs;
#   2. starts the bundled engine's HTTP server (CPU backend, tiny synthetic
#      model) under the preload with its Prometheus endpoint on;
#   3. drives it with parklock-loadgen (a progress bar on a terminal);
#   4. prints the engine's top contended call-sites (its named locks and
#      their source lines) from a real scrape, and its TTFT and inter-token
#      latency beside them;
#   5. runs a short A/B of the server under glibc, parklock, observe-only
#      and recording, and prints its table and the path of its plot.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja >/dev/null
cmake --build "$build_dir" -j "${JOBS:-$(nproc)}" \
  --target parklock parklock_exporter parklock_cli parklock-engine parklock-loadgen
bin=$PWD/$build_dir/bin
out=$PWD/$build_dir/demo
mkdir -p "$out"

# The tiny model keeps a 2-core machine to a few minutes; one GEMM thread
# per request step leaves the cores to the serving threads whose locks are
# the point.
serve=("$bin/parklock-engine" serve --config tiny --port 0 --gemm-threads 1)
load_args=(--model tiny --clients 64 --prompt-len 32 --max-tokens 32)

metrics_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== parklock-engine serve under the preload, metrics on 127.0.0.1:$metrics_port"
: >"$out/server.log"  # exists before the background job opens it, for the wait below
"$bin/parklock" run --metrics "127.0.0.1:$metrics_port" -- "${serve[@]}" >"$out/server.log" 2>&1 &
server_pid=$!
trap 'kill -TERM "$server_pid" 2>/dev/null || true' EXIT
url=
for _ in $(seq 600); do  # up to 60 s
  url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$out/server.log" | head -1)
  [[ -n $url ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$out/server.log"; exit 1; }
  sleep 0.1
done
[[ -n $url ]] || { echo "the server did not start; its log:"; cat "$out/server.log"; exit 1; }
echo "serving at $url"

echo "== parklock-loadgen: 2048 requests from 64 clients"
"$bin/parklock-loadgen" --url "$url" "${load_args[@]}" --requests 2048 --json "$out/load.json"

echo "== what waited, and who made it wait"
/usr/bin/python3 scripts/top_sites.py --parklock "http://127.0.0.1:$metrics_port/metrics" --engine "$url/metrics"
kill -TERM "$server_pid"
wait "$server_pid" || true
trap - EXIT

echo "== A/B: the same server and load under each arm"
"$bin/parklock" ab --runs 5 --warmup 1 \
  --server "${serve[*]}" \
  --load "$bin/parklock-loadgen --url {url} ${load_args[*]} --requests 512 --json {json}" \
  --loadgen-json output_tokens_per_s \
  --csv "$out/engine-ab.csv" --plot "$out/engine-ab.png"
