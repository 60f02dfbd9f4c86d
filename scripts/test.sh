#!/usr/bin/env bash
# Runs every pixelway test: installs what the tests need (scripts/test-deps.sh), then the whole
# workspace's unit and integration tests. The tests start their own servers on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
if cargo nextest --version >/dev/null 2>&1; then
  # (nextest skips doc tests; the workspace has none, so its summary is the whole story)
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
