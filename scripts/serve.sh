#!/usr/bin/env bash
# Starts pixelway from this checkout: installs build prerequisites when missing
# (scripts/build-deps.sh), then `cargo run --release -- serve`. Without arguments: the embedded
# default (SQLite + local disk under ./pixelway-data, a demo account with sample images).
# Arguments go to `pixelway serve`, e.g. scripts/serve.sh --config pixelway.toml; a config file
# is checked first (`pixelway check`), so a mistake is reported before anything starts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-deps.sh
config=""
previous=""
for argument in "$@"; do
  case "$argument" in
    --config=*) config="${argument#--config=}" ;;
  esac
  [ "$previous" = "--config" ] && config="$argument"
  previous="$argument"
done
if [ -n "$config" ]; then
  cargo run --release --quiet -- check --config "$config"
fi
exec cargo run --release -- serve "$@"
