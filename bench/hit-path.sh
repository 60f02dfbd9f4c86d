#!/usr/bin/env bash
# Hit-path throughput: pixelway serving a ~92 KB JPEG from its Media Library against nginx serving
# the same file from disk, side by side on this machine with wrk. Prints requests/s and the ratio.
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

run() { wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
echo "file: $(stat -c %s "$FILE") bytes; wrk -t2 -c$CONNECTIONS -d${SECONDS_PER_RUN}s; $(nproc) cores"
NG1=$(run "http://127.0.0.1:$NG_PORT/demo/samples/cups.jpg")
PX1=$(run "http://127.0.0.1:$PX_PORT/demo/samples/cups.jpg")
NG2=$(run "http://127.0.0.1:$NG_PORT/demo/samples/cups.jpg")
PX2=$(run "http://127.0.0.1:$PX_PORT/demo/samples/cups.jpg")
python3 - "$NG1" "$PX1" "$NG2" "$PX2" <<'PY'
import sys
ng1, px1, ng2, px2 = map(float, sys.argv[1:])
ng, px = (ng1 + ng2) / 2, (px1 + px2) / 2
print(f"nginx     {ng1:10.0f} {ng2:10.0f} req/s  (mean {ng:.0f})")
print(f"pixelway  {px1:10.0f} {px2:10.0f} req/s  (mean {px:.0f})")
print(f"ratio pixelway/nginx: {px / ng:.2f}")
PY
