#!/usr/bin/env bash
# Hit-path throughput: pixelway against nginx on the same bytes, side by side on this machine
# with wrk (-t2 -c64), alternating runs; prints requests/s, p99 latency and the ratios for:
#   - a 12 KB and a 92 KB original (untransformed URL, no WebP in Accept);
#   - a transformed result (tr:w-400 of a 1600 px JPEG; nginx serves a copy of those bytes);
#   - an untransformed URL with Accept: image/webp (pixelway's cached WebP; nginx a copy of it);
#   - 1,000 distinct hot files asked in turn (a memory-tier workload);
#   - the same 1,000 files on a pixelway whose memory tier holds a sixth of them (the disk path).
# Then pixelway's peak RSS against its memory tier's budget.
# Usage: bench/hit-path.sh [seconds=10] [connections=64]
# Needs: nginx and wrk (apt-get install nginx-light wrk). Everything listens on 127.0.0.1 only and
# stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
CONNECTIONS=${2:-64}
MEMORY_BUDGET=${MEMORY_BUDGET:-256MiB}
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { echo "$tool missing: apt-get install nginx-light wrk" >&2; exit 1; }
done
cargo build --release -q
WORK=$(mktemp -d)
chmod 755 "$WORK"   # nginx workers run as an unprivileged user
cleanup() {
  kill "${PIXELWAY_PID:-}" "${DISK_PID:-}" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SAMPLES=crates/pixelway/assets/samples
HOT=1000

# The files, laid out the same for both servers: pixelway's Media Library of the demo account
# and nginx's root. The 1,000 hot files are copies of the 92 KB photo, each made distinct.
mkdir -p "$WORK/www/demo/samples" "$WORK/www/demo/hot" "$WORK/nginx-tmp"
cp "$SAMPLES"/*.jpg "$WORK/www/demo/samples/"
python3 - "$SAMPLES/cups.jpg" "$WORK/www/demo/hot" "$HOT" <<'PY'
import sys
source, folder, n = open(sys.argv[1], "rb").read(), sys.argv[2], int(sys.argv[3])
for i in range(n):
    # A JPEG comment segment right after SOI: still the same picture, other bytes.
    comment = f"copy {i}".encode()
    marker = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    open(f"{folder}/{i}.jpg", "wb").write(source[:2] + marker + source[2:])
PY
start_pixelway() {  # dir port memory-budget
  mkdir -p "$1/pixelway-data/media"
  cp -r "$WORK/www/demo" "$1/pixelway-data/media/"
  (cd "$1" && PIXELWAY_SERVER__LISTEN=127.0.0.1:$2 PIXELWAY_LOG=warn PIXELWAY_STORAGE__MEMORY_CACHE_BYTES=$3 \
    exec "$OLDPWD/target/release/pixelway" serve > pixelway.out 2>&1) &
}
PX_PORT=$(port); DISK_PORT=$(port); NG_PORT=$(port)
start_pixelway "$WORK/px" "$PX_PORT" "$MEMORY_BUDGET"; PIXELWAY_PID=$!
start_pixelway "$WORK/disk" "$DISK_PORT" 16MiB; DISK_PID=$!

cat > "$WORK/nginx.conf" <<NGINX
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  open_file_cache max=2000 inactive=60s;
  client_body_temp_path $WORK/nginx-tmp; proxy_temp_path $WORK/nginx-tmp;
  fastcgi_temp_path $WORK/nginx-tmp; uwsgi_temp_path $WORK/nginx-tmp; scgi_temp_path $WORK/nginx-tmp;
  types { image/jpeg jpg; image/webp webp; }
  server { listen 127.0.0.1:$NG_PORT; root $WORK/www; etag on; }
}
NGINX
nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"
for p in "$PX_PORT" "$DISK_PORT"; do
  for i in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$p/demo/samples/cups.jpg" && break; sleep 0.2; done
done
cmp <(curl -s "http://127.0.0.1:$PX_PORT/demo/samples/cups.jpg") "$SAMPLES/cups.jpg"

# What pixelway answers for the transformed and the WebP cases, copied for nginx to serve.
ACCEPT_WEBP="Accept: image/webp,*/*"
curl -sf -o "$WORK/www/demo/samples/w400.jpg" "http://127.0.0.1:$PX_PORT/demo/tr:w-400/samples/fresh-flower.jpg"
curl -sf -H "$ACCEPT_WEBP" -o "$WORK/www/demo/samples/cups.webp" "http://127.0.0.1:$PX_PORT/demo/samples/cups.jpg"
cat > "$WORK/hot.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/demo/hot/" .. (n % $HOT) .. ".jpg")
end
LUA

# One wrk run: "requests/s p99-in-ms".
run() {
  local url=$1; shift
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$@" "$url" | awk '
    /Requests\/sec/ {rps=$2}
    /^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; p99=v}
    END {print rps, p99}'
}
echo "wrk -t2 -c$CONNECTIONS -d${SECONDS_PER_RUN}s; $(nproc) cores; memory tier $MEMORY_BUDGET (disk-path server: 16MiB)"
compare() {
  local label=$1 ng_url=$2 px_url=$3; shift 3
  # Warm both (pixelway fills its caches; nginx its open-file cache).
  wrk -t2 -c"$CONNECTIONS" -d2s "$@" "$ng_url" > /dev/null; wrk -t2 -c"$CONNECTIONS" -d2s "$@" "$px_url" > /dev/null
  local ng1 px1 ng2 px2
  ng1=$(run "$ng_url" "$@"); px1=$(run "$px_url" "$@")
  ng2=$(run "$ng_url" "$@"); px2=$(run "$px_url" "$@")
  python3 - "$label" "$ng1" "$px1" "$ng2" "$px2" <<'PY'
import sys
label = sys.argv[1]
(ng1, ngp1), (px1, pxp1), (ng2, ngp2), (px2, pxp2) = [tuple(map(float, a.split())) for a in sys.argv[2:]]
ng, px = (ng1 + ng2) / 2, (px1 + px2) / 2
ngp, pxp = (ngp1 + ngp2) / 2, (pxp1 + pxp2) / 2
print(f"{label}")
print(f"  nginx     {ng1:9.0f} {ng2:9.0f} req/s (mean {ng:.0f}), p99 {ngp:.2f} ms")
print(f"  pixelway  {px1:9.0f} {px2:9.0f} req/s (mean {px:.0f}), p99 {pxp:.2f} ms")
print(f"  ratio pixelway/nginx: {px / ng:.2f} req/s, {pxp / ngp:.2f} p99")
PY
}
NG=http://127.0.0.1:$NG_PORT/demo
PX=http://127.0.0.1:$PX_PORT/demo
compare "12 KB original ($(stat -c %s "$SAMPLES/pastel-hills.jpg") bytes)" "$NG/samples/pastel-hills.jpg" "$PX/samples/pastel-hills.jpg"
compare "92 KB original ($(stat -c %s "$SAMPLES/cups.jpg") bytes)" "$NG/samples/cups.jpg" "$PX/samples/cups.jpg"
compare "transformed result, tr:w-400 ($(stat -c %s "$WORK/www/demo/samples/w400.jpg") bytes)" "$NG/samples/w400.jpg" "$PX/tr:w-400/samples/fresh-flower.jpg"
compare "untransformed URL, Accept: image/webp ($(stat -c %s "$WORK/www/demo/samples/cups.webp") bytes)" "$NG/samples/cups.webp" "$PX/samples/cups.jpg" -H "$ACCEPT_WEBP"
compare "$HOT distinct hot files (92 KB each)" "$NG/" "$PX/" -s "$WORK/hot.lua"
compare "$HOT distinct files, memory tier of 16 MiB (the disk path)" "$NG/" "http://127.0.0.1:$DISK_PORT/demo/" -s "$WORK/hot.lua"
for pid in $PIXELWAY_PID $DISK_PID; do
  awk -v pid="$pid" '/VmHWM/ {printf "pixelway %s: peak RSS %.0f MB\n", pid, $2/1024}' "/proc/$pid/status"
done
echo "(first: memory tier $MEMORY_BUDGET; second: 16MiB)"
