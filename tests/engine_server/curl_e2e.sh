#!/usr/bin/env bash
# End to end with curl: serve on a free loopback port, one streamed and one
# whole completion, then SIGTERM by PID and a clean exit.
#   curl_e2e.sh <parklock-engine> <scratch dir>
set -euo pipefail
engine=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
"$engine" serve --config tiny --host 127.0.0.1 --port 0 > "$dir/out" 2> "$dir/err" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  grep -q '^listening on ' "$dir/out" && break
  kill -0 $pid 2>/dev/null || { cat "$dir/err"; exit 1; }
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$dir/out")
[ -n "$url" ] || { echo "no 'listening on' line"; cat "$dir/err"; exit 1; }

curl -sS --max-time 30 -N "$url/v1/completions" -H 'Content-Type: application/json' \
  -d '{"model": "tiny", "prompt": "Hello", "max_tokens": 8, "temperature": 0, "ignore_eos": true, "stream": true, "stream_options": {"include_usage": true}}' \
  > "$dir/stream"
grep -q '^data: {"id":"cmpl-' "$dir/stream" || { echo "no SSE chunk:"; cat "$dir/stream"; exit 1; }
grep -q '"completion_tokens":8' "$dir/stream" || { echo "no usage chunk:"; cat "$dir/stream"; exit 1; }
[ "$(tail -n 2 "$dir/stream" | head -n 1)" = "data: [DONE]" ] || { echo "stream does not end with [DONE]:"; cat "$dir/stream"; exit 1; }

code=$(curl -sS --max-time 30 -o "$dir/whole" -w '%{http_code}' "$url/v1/completions" \
  -d '{"model": "tiny", "prompt": "Hello", "max_tokens": 8, "temperature": 0, "ignore_eos": true}')
[ "$code" = 200 ] || { echo "HTTP $code"; cat "$dir/whole"; exit 1; }
grep -q '"finish_reason":"length"' "$dir/whole" || { cat "$dir/whole"; exit 1; }

kill -TERM $pid
for _ in $(seq 1 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
trap - EXIT
wait $pid
echo "curl end-to-end: ok"
