#!/usr/bin/env bash
# Starts pixelway from this checkout: installs build prerequisites when missing
# (scripts/build-deps.sh), then `cargo run --release -- serve`. Without arguments: the embedded
# default (SQLite + local disk under ./pixelway-data, a demo account with sample images).
# Arguments go to `pixelway serve`, e.g. scripts/serve.sh --config pixelway.toml
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-deps.sh
exec cargo run --release -- serve "$@"
