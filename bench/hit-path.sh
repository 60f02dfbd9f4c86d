#!/usr/bin/env bash
# Hit-path throughput: pixelway serving a ~92 KB JPEG from its Media Library against nginx serving
# the same file from disk, side by side on this machine with wrk, alternating runs; then the same
# untransformed URL asked with Accept: image/webp (pixelway's cached WebP against nginx serving a
# pre-made WebP of the same bytes). Prints requests/s, p99 latency and the ratios.
# Usage: bench/hit-path.sh [seconds=10] [connections=64]
# Needs: nginx and wrk (apt-get install nginx-light wrk). Everything listens on 127.0.0.1 only and
# stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
CONNECTIONS=${2:-64}
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { echo "$tool missing: apt-get install nginx-light wrk" >&2; exit 1; }
done
cargo build --release -q
WORK=$(mktemp -d)
chmod 755 "$WORK"   # nginx workers run as an unprivileged user
cleanup() { kill "${PIXELWAY_PID:-}" 2>/dev/null || true; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# pixelway: the embedded default (demo account, sample images in the Media Library).
PX_PORT=$(port)
(cd "$WORK" && PIXELWAY_SERVER__LISTEN=127.0.0.1:$PX_PORT PIXELWAY_LOG=warn \
  "$OLDPWD/target/release/pixelway" serve > pixelway.out 2>&1) &
PIXELWAY_PID=$!
FILE=crates/pixelway/assets/samples/cups.jpg

# nginx: the same file, from disk, with settings a CDN origin would use.
NG_PORT=$(port)
mkdir -p "$WORK/www/demo/samples" "$WORK/nginx-tmp"
cp "$FILE" "$WORK/www/demo/samples/cups.jpg"
cat > "$WORK/nginx.conf" <<NGINX
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  open_file_cache max=1000 inactive=60s;
  client_body_temp_path $WORK/nginx-tmp; proxy_temp_path $WORK/nginx-tmp;
  fastcgi_temp_path $WORK/nginx-tmp; uwsgi_temp_path $WORK/nginx-tmp; scgi_temp_path $WORK/nginx-tmp;
  types { image/jpeg jpg; }
  server { listen 127.0.0.1:$NG_PORT; root $WORK/www; etag on; }
}
NGINX
nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"

for i in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$PX_PORT/demo/samples/cups.jpg" && break; sleep 0.2; done
curl -sf -o /dev/null "http://127.0.0.1:$NG_PORT/demo/samples/cups.jpg"
cmp <(curl -s "http://127.0.0.1:$PX_PORT/demo/samples/cups.jpg") "$FILE"

# The untransformed URL with Accept: image/webp: pixelway answers its cached WebP ("use best
# format"); nginx serves a pre-made WebP of the very same bytes.
ACCEPT_WEBP="Accept: image/webp,*/*"
curl -sf -H "$ACCEPT_WEBP" -o "$WORK/www/demo/samples/cups.webp" "http://127.0.0.1:$PX_PORT/demo/samples/cups.jpg"
sed -i 's/types { image\/jpeg jpg; }/types { image\/jpeg jpg; image\/webp webp; }/' "$WORK/nginx.conf"
nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" -s reload; sleep 0.5

# One wrk run: "requests/s p99-in-ms".
run() {
  local url=$1; shift
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$@" "$url" | awk '
    /Requests\/sec/ {rps=$2}
    /^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; p99=v}
    END {print rps, p99}'
}
echo "file: $(stat -c %s "$FILE") bytes (WebP: $(stat -c %s "$WORK/www/demo/samples/cups.webp") bytes); wrk -t2 -c$CONNECTIONS -d${SECONDS_PER_RUN}s; $(nproc) cores"
compare() {
  local label=$1 ng_url=$2 px_url=$3; shift 3
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
compare "original JPEG" "http://127.0.0.1:$NG_PORT/demo/samples/cups.jpg" "http://127.0.0.1:$PX_PORT/demo/samples/cups.jpg"
compare "untransformed URL, Accept: image/webp" "http://127.0.0.1:$NG_PORT/demo/samples/cups.webp" "http://127.0.0.1:$PX_PORT/demo/samples/cups.jpg" -H "$ACCEPT_WEBP"
