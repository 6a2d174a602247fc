#!/usr/bin/env bash
# Install what libtnt needs to build and test, from Debian's packages.
# Idempotent: packages already present are not fetched again.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config python3
  libyajl-dev libssl-dev liblmdb-dev zlib1g-dev nanopb libnanopb-dev protobuf-compiler python3-protobuf
  libzstd-dev libyaml-dev
  libcmocka-dev abigail-tools clang libclang-rt-14-dev valgrind
  libsodium-dev
  locales
  swig wrk chromium curl python3-dev python3-venv python3-pip
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
