#!/usr/bin/env bash
# Start-up cost per tenant: a config declaring N accounts × 5 URL endpoints (one web origin
# each, never fetched) is started twice in one data directory (first start creates everything,
# second start re-applies an unchanged file); prints the time from launch to the "listening"
# line and the RSS after start, per start, and per account. Then, on the running server: the
# time one change takes through the management API (a new URL endpoint for one account, live
# when the answer comes), and the time to route a request (an unknown account, and a bad
# transformation on the last account: routed and parsed, never fetched).
# Usage: bench/tenants.sh [accounts=2000] [binary=target/release/pixelway]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
BIN=${2:-target/release/pixelway}
[ -x "$BIN" ] || cargo build --release -q
WORK=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 - "$N" > "$WORK/pixelway.toml" <<'PY'
import sys
n = int(sys.argv[1])
print('[limits]\nallow_private_origin_addresses = true\n')
for i in range(n):
    print(f'''[[account]]
id = "t{i}"
private_key = "private_t{i}"
public_key = "public_t{i}"
  [[account.origin]]
  name = "site"
  type = "web_folder"
  base_url = "http://127.0.0.1:9/t{i}"''')
    for e in range(4):
        print(f'''  [[account.endpoint]]
  identifier = "e{e}"
  origins = ["site"]''')
PY
start_once() {
  local t0 t1
  t0=$(date +%s.%N)
  (cd "$WORK" && PIXELWAY_SERVER__LISTEN=127.0.0.1:0 PIXELWAY_LOG=${PIXELWAY_LOG:-warn} exec "$OLDPWD/$BIN" serve --config pixelway.toml > out.log 2>&1) &
  PID=$!
  until grep -q "pixelway listening" "$WORK/out.log" 2>/dev/null; do
    kill -0 $PID 2>/dev/null || { cat "$WORK/out.log"; exit 1; }
    sleep 0.05
  done
  t1=$(date +%s.%N)
  # With PIXELWAY_LOG=info: how long each start-up phase took.
  sed 's/\x1b\[[0-9;]*m//g' "$WORK/out.log" | grep -o '[a-z ]*\(loaded\|applied\|built\|unchanged\)[^"]*took=[0-9.]*[a-zµ]*' || true
  local rss_kb
  rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
  python3 -c "
n=$N; s=$t1-$t0; mb=$rss_kb/1024
print(f'$1: {n} accounts x 5 endpoints: started in {s:.2f} s ({s/n*1000:.2f} ms per account), RSS {mb:.0f} MB ({mb*1024/n:.1f} KB per account)')"
  [ "${2:-}" = keep ] || { kill $PID; wait $PID 2>/dev/null || true; }
}
start_once "first start "
start_once "second start" keep
ADDR=$(sed -n 's/^pixelway listening on http:\/\///p' "$WORK/out.log")
python3 - "$ADDR" "$N" <<'PY'
import http.client, json, base64, sys, time
addr, n = sys.argv[1], int(sys.argv[2])
host, port = addr.rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port))
def timed(method, path, body=None, headers={}):
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse(); r.read()
    return r.status, time.perf_counter() - t0
auth = {"Authorization": "Basic " + base64.b64encode(b"private_t0:").decode(),
        "Content-Type": "application/json"}
changes = []
for i in range(20):
    body = json.dumps({"description": "bench", "urlPrefix": f"bench{i}"})
    status, took = timed("POST", "/v1/accounts/url-endpoints", body, auth)
    assert status == 201, status
    changes.append(took)
changes.sort()
print(f"one change through the API (new URL endpoint, live on answer): median {changes[10]*1000:.1f} ms, max {changes[-1]*1000:.1f} ms over 20")
for label, path in [("unknown account", "/nobody/x.jpg"),
                    ("last account, bad transformation", f"/t{n-1}/e3/tr:w-abc/x.jpg")]:
    times = sorted(timed("GET", path)[1] for _ in range(500))
    print(f"routing ({label}): median {times[250]*1e6:.0f} µs over 500 keep-alive requests")
PY
kill $PID; wait $PID 2>/dev/null || true
