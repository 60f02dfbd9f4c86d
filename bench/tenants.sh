#!/usr/bin/env bash
# Start-up cost per tenant: a config declaring N accounts × 5 URL endpoints (one web origin
# each, never fetched) is started twice in one data directory (first start creates everything,
# second start re-applies an unchanged file); prints the time from launch to the "listening"
# line and the RSS after start, per start, and per account. Then, on the running server: the
# time one change takes through the management API (a new URL endpoint for one account, live
# when the answer comes), and the time to route a request (an unknown account, and a bad
# transformation on the last account: routed and parsed, never fetched).
# Then the change rate: 8 clients updating endpoints of different accounts through the API for
# 10 s (each change validated, written, and live on every node when its answer comes).
# With `postgres` as the third argument the store is a throwaway PostgreSQL (Debian's binaries,
# started here on 127.0.0.1 with fsync on) instead of SQLite.
# Usage: bench/tenants.sh [accounts=2000] [binary=target/release/pixelway] [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
BIN=${2:-target/release/pixelway}
DB=${3:-sqlite}
[ -x "$BIN" ] || cargo build --release -q
WORK=$(mktemp -d)
PGDATA_DIR=""
cleanup() {
  kill $PID 2>/dev/null || true
  if [ -n "$PGDATA_DIR" ]; then as_postgres "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
DATABASE_URL=""
if [ "$DB" = postgres ]; then
  INITDB=$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | tail -1)
  PGBIN=$(dirname "$(readlink -f "$INITDB")")
  PGDATA_DIR="$WORK/pg"
  mkdir -p "$PGDATA_DIR"; [ "$(id -u)" = 0 ] && chown postgres "$WORK" "$PGDATA_DIR"
  as_postgres "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust -E UTF8 --locale=C >/dev/null
  PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_postgres "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -o "-p $PGPORT -h 127.0.0.1 -k $PGDATA_DIR" -w start >/dev/null
  "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE bench"
  DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/bench"
  echo "store: PostgreSQL on 127.0.0.1:$PGPORT"
else
  echo "store: SQLite"
fi
python3 - "$N" "$DATABASE_URL" > "$WORK/pixelway.toml" <<'PY'
import sys
n = int(sys.argv[1])
print('[limits]\nallow_private_origin_addresses = true\n')
if sys.argv[2]:
    print(f'[storage]\ndatabase_url = "{sys.argv[2]}"\n')
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

# The change rate: 8 clients, each changing the description of an endpoint of its own accounts
# in turn (endpoints made through the API: the file's are managed by the file), for 10 s.
import threading
CLIENTS, SECONDS = 8, 10.0
done = [0] * CLIENTS
failed = [0] * CLIENTS
def client(k):
    c = http.client.HTTPConnection(host, int(port))
    ids = {}
    accounts = [f"t{i}" for i in range(k, n, CLIENTS)][:50]
    for account in accounts:
        key = base64.b64encode(f"private_{account}:".encode()).decode()
        headers = {"Authorization": "Basic " + key, "Content-Type": "application/json"}
        c.request("POST", "/v1/accounts/url-endpoints", headers=headers,
                  body=json.dumps({"urlPrefix": "rate", "origins": []}))
        r = c.getresponse(); made = json.loads(r.read())
        assert r.status == 201, made
        ids[account] = (headers, made)
    end = time.perf_counter() + SECONDS
    i = 0
    while time.perf_counter() < end:
        account = accounts[i % len(accounts)]
        headers, e0 = ids[account]
        body = json.dumps({"urlPrefix": "rate", "origins": [], "description": f"rev {i}"})
        c.request("PUT", f"/v1/accounts/url-endpoints/{e0['id']}", body=body, headers=headers)
        r = c.getresponse(); r.read()
        if r.status == 200: done[k] += 1
        else: failed[k] += 1
        i += 1
threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
for t in threads: t.start()
for t in threads: t.join()
print(f"sustained change rate through the API: {sum(done)/SECONDS:.0f} changes/s "
      f"({CLIENTS} clients, {SECONDS:.0f} s, {sum(failed)} refused)")
PY
kill $PID; wait $PID 2>/dev/null || true
