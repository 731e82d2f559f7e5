#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs what building and testing Cairn needs on Debian 12 (bookworm):
# the toolchain, the libraries cairnd links, and the real DICOM peers and
# sample files the tests use. Installs only what is missing; run as root
# (or it uses sudo when available).

set -euo pipefail

packages=(
    build-essential cmake pkg-config git
    libconfig-dev libltdl-dev libsqlite3-dev zlib1g-dev libssl-dev
    libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev
    libcmocka-dev
    libpq-dev postgresql
    dcmtk libdcmtk-dev
    python3 python3-pydicom
    libgdcm-tools
    bc procps
    curl jq openssl
    # Packaging and the SDK ABI check: packaging/build-packages.sh and
    # sdk/abi/check-abi.sh (rpm provides rpmbuild).
    dpkg-dev rpm abigail-tools binutils file
)

# Node.js and npm run the dcmjs-dimse peer; a Node.js already on the
# machine (from Debian or elsewhere) is used as it is.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "setup-debian: every package is already installed"
    exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup-debian: run as root to install: ${missing[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
fi

echo "setup-debian: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
