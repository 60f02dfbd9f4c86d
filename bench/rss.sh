#!/usr/bin/env bash
# Peak memory under load: 32 concurrent cold requests, each for a different ~20 MP JPEG resized
# to 800 px, against the release binary; prints pixelway's peak RSS (VmHWM) and the wall time.
# Usage: bench/rss.sh [requests=32]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-32}
IMAGES=bench/images
[ -f "$IMAGES/kleiber_6028x3391.jpg" ] || bash bench/get-images.sh "$IMAGES" >/dev/null
cargo build --release -q
WORK=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$WORK" && PIXELWAY_SERVER__LISTEN=127.0.0.1:$PORT PIXELWAY_LOG=warn "$OLDPWD/target/release/pixelway" serve > out.log 2>&1) &
PID=$!
for i in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
PID=$(pgrep -f "release/pixelway serve" -n)
mkdir -p "$WORK/pixelway-data/media/demo/load"
for i in $(seq "$N"); do cp "$IMAGES/kleiber_6028x3391.jpg" "$WORK/pixelway-data/media/demo/load/$i.jpg"; done
echo "before: $(grep VmRSS /proc/$PID/status)"
start=$(date +%s.%N)
for i in $(seq "$N"); do
  curl -s -o /dev/null -w "%{http_code}\n" "http://127.0.0.1:$PORT/demo/tr:w-800/load/$i.jpg" &
done | sort | uniq -c
end=$(date +%s.%N)
echo "$N cold 20 MP requests in $(python3 -c "print(round($end - $start, 2))") s; peak $(grep VmHWM /proc/$PID/status)"
