#!/usr/bin/env bash
# Start-up cost per tenant: a config declaring N accounts × 5 URL endpoints (one web origin
# each, never fetched) is started twice in one data directory (first start creates everything,
# second start re-applies an unchanged file); prints the time from launch to the "listening"
# line and the RSS after start, per start, and per account.
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
  (cd "$WORK" && PIXELWAY_SERVER__LISTEN=127.0.0.1:0 PIXELWAY_LOG=warn exec "$OLDPWD/$BIN" serve --config pixelway.toml > out.log 2>&1) &
  PID=$!
  until grep -q "pixelway listening" "$WORK/out.log" 2>/dev/null; do
    kill -0 $PID 2>/dev/null || { cat "$WORK/out.log"; exit 1; }
    sleep 0.05
  done
  t1=$(date +%s.%N)
  local rss_kb
  rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
  python3 -c "
n=$N; s=$t1-$t0; mb=$rss_kb/1024
print(f'$1: {n} accounts x 5 endpoints: started in {s:.2f} s ({s/n*1000:.2f} ms per account), RSS {mb:.0f} MB ({mb*1024/n:.1f} KB per account)')"
  kill $PID; wait $PID 2>/dev/null || true
}
start_once "first start "
start_once "second start"
