#!/usr/bin/env bash
# Installs what building and testing concur needs, with apt-get, when something is missing.
# Idempotent and quiet when everything is there already.
set -euo pipefail

packages=(make gcc clang bpftool libbpf-dev libelf-dev zlib1g-dev libcriterion-dev
	  pkg-config python3 linux-libc-dev util-linux golang-go chromium)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
