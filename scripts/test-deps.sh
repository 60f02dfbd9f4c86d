#!/usr/bin/env bash
# Installs what pixelway's tests need, when missing: build tools (scripts/build-deps.sh), the S3-protocol server and
# GCS emulator and SDK clients (pip), Azurite and the Node SDK (npm, into .tools/). Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build-deps.sh

PY=${PYTHON:-python3}
if ! $PY - <<'PY' 2>/dev/null
import importlib.util, sys
mods = ["moto", "flask_cors", "gcp_storage_emulator", "azure.storage.blob", "imagekitio", "jsonschema"]
sys.exit(0 if all(importlib.util.find_spec(m) for m in mods) else 1)
PY
then
  echo "test-deps: pip install moto[server] gcp-storage-emulator azure-storage-blob imagekitio jsonschema"
  $PY -m pip install -q 'moto[server]' gcp-storage-emulator azure-storage-blob imagekitio jsonschema
fi
command -v moto_server >/dev/null 2>&1 || { echo "moto_server not on PATH after install" >&2; exit 1; }

if [ ! -x .tools/node_modules/.bin/azurite-blob ] || [ ! -d .tools/node_modules/@imagekit/nodejs ]; then
  echo "test-deps: npm install azurite @imagekit/nodejs (into .tools/)"
  mkdir -p .tools
  (cd .tools && [ -f package.json ] || echo '{"name":"pixelway-test-tools","private":true}' > package.json)
  (cd .tools && npm install --no-audit --no-fund --silent azurite@3 @imagekit/nodejs@7 >/dev/null)
fi
echo "test-deps: ready"
