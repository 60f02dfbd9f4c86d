#!/usr/bin/env bash
# Transformation throughput: pixelway's pipeline against sharp (npm; it ships its own libvips)
# on the same real photos, in the same run, with 1 and 2 threads: resizes to each format, a
# watermarked 800 px JPEG from a 20 MP photo, and a 100-frame animated GIF resized. Prints images/s, the
# pixelway/sharp ratio per case, and each side's peak RSS.
# Usage: bench/transform.sh [seconds per case = 5]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_CASE=${1:-5}
IMAGES=bench/images
[ -f "$IMAGES/kay_5120x2880_rgba.png" ] || bash bench/get-images.sh "$IMAGES" >/dev/null
if [ ! -d bench/transform/node_modules/sharp ]; then
  (cd bench/transform && { [ -f package.json ] || echo '{"private":true,"type":"module"}' > package.json; } \
    && npm install --no-audit --no-fund --silent sharp@0.34 >/dev/null)
fi
cargo build --release -q -p pixelway-transform --example bench
[ -f "$IMAGES/anim_100f.gif" ] || target/release/examples/bench make-gif "$IMAGES"
for threads in 1 2; do
  echo "== $threads thread(s), ${SECONDS_PER_CASE}s per case"
  /usr/bin/time -f "%M" -o /tmp/pixelway-rss target/release/examples/bench "$IMAGES" "$threads" "$SECONDS_PER_CASE" > /tmp/pixelway-bench
  /usr/bin/time -f "%M" -o /tmp/sharp-rss node bench/transform/sharp-bench.mjs "$IMAGES" "$threads" "$SECONDS_PER_CASE" > /tmp/sharp-bench
  join /tmp/pixelway-bench /tmp/sharp-bench | awk '{ printf "%-15s pixelway %6.2f/s %7d B   sharp %6.2f/s %7d B   speed ratio %.2f   size ratio %.2f\n", $1, $2, $3, $4, $5, $2/$4, $3/$5 }'
  echo "peak RSS: pixelway $(( $(cat /tmp/pixelway-rss) / 1024 )) MB, sharp $(( $(cat /tmp/sharp-rss) / 1024 )) MB"
done
