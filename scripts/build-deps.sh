#!/usr/bin/env bash
# Installs what building pixelway needs beyond the Rust toolchain, when missing: a C compiler,
# cmake and nasm (libjpeg-turbo is built from source with SIMD), pkg-config, and the dav1d and
# libde265 decoders that libheif (built from source for AVIF/HEIC input) links. Debian/Ubuntu (apt).
set -euo pipefail
need=()
for pair in cc:build-essential c++:g++ cmake:cmake nasm:nasm pkg-config:pkg-config; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
for lib in dav1d:libdav1d-dev libde265:libde265-dev; do
  pkg-config --exists "${lib%%:*}" 2>/dev/null || need+=("${lib#*:}")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "build-deps: apt-get install ${need[*]}" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
