#!/usr/bin/env bash
# Installs what pixelway's tests need, when missing: build tools (scripts/build-deps.sh), the S3-protocol server and
# GCS emulator and SDK clients, fontTools for hostile fonts and schemathesis for the API fuzzer (pip), Azurite, the Node SDK and playwright-core (npm, into .tools/), Debian's
# PostgreSQL for the store's tests, nginx for the balancer test and Chromium for the dashboard's browser tests (apt). Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build-deps.sh

PY=${PYTHON:-python3}
if ! $PY - <<'PY' 2>/dev/null
import importlib.util, sys
mods = ["moto", "flask_cors", "gcp_storage_emulator", "azure.storage.blob", "imagekitio", "jsonschema", "fontTools", "schemathesis"]
sys.exit(0 if all(importlib.util.find_spec(m) for m in mods) else 1)
PY
then
  echo "test-deps: pip install moto[server] gcp-storage-emulator azure-storage-blob imagekitio jsonschema fonttools schemathesis"
  $PY -m pip install -q 'moto[server]' gcp-storage-emulator azure-storage-blob imagekitio jsonschema fonttools 'schemathesis==4.32.5'
fi
command -v moto_server >/dev/null 2>&1 || { echo "moto_server not on PATH after install" >&2; exit 1; }

if [ ! -x .tools/node_modules/.bin/azurite-blob ] || [ ! -d .tools/node_modules/@imagekit/nodejs ] \
  || [ ! -d .tools/node_modules/playwright-core ]; then
  echo "test-deps: npm install azurite @imagekit/nodejs playwright-core (into .tools/)"
  mkdir -p .tools
  (cd .tools && [ -f package.json ] || echo '{"name":"pixelway-test-tools","private":true}' > package.json)
  (cd .tools && npm install --no-audit --no-fund --silent azurite@3 @imagekit/nodejs@7 playwright-core@1 >/dev/null)
fi

# The store's conformance suite and the scale-out tests run a throwaway PostgreSQL from Debian's
# binaries (initdb + postgres; the testkit starts it).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "test-deps: apt-get install postgresql"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

# The balancer test puts nginx in front of two nodes, configured as docs/scaling.md says.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "test-deps: apt-get install nginx-light"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
  # Debian starts it as a service on port 80: the tests start their own.
  $SUDO nginx -s stop >/dev/null 2>&1 || true
fi

# The dashboard's tests drive Debian's Chromium (playwright-core never downloads a browser).
if ! command -v chromium >/dev/null 2>&1; then
  echo "test-deps: apt-get install chromium"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
echo "test-deps: ready"
