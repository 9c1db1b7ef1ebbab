#!/usr/bin/env bash
# setup.sh -- install what tostc needs to build and test on Debian 12.
#
#   scripts/setup.sh          # build + test dependencies (apt-get; root or sudo)
#
# Skipped when TOSTC_NO_SETUP=1.  Installs only packages that are missing, so a
# second run is quick and works offline.
set -euo pipefail
if [ "${TOSTC_NO_SETUP:-0}" = 1 ]; then
	exit 0
fi
pkgs=(cmake gcc g++ make pkg-config flex bison protobuf-c-compiler libprotobuf-c-dev
	libcunit1-dev python3-onnx python3-numpy python3-torch python3-sklearn
	python3-torchvision   # ctest vision: torchvision architectures against PyTorch
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user   # these three: ctest paths_aarch64
	ninja-build   # ctest cmake_consumer builds samples/cmake with Ninja and Makefiles
	llvm-16-dev clang-16   # the LLVM backend (-o model.o) and ctest llvm
	gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)   # ctest mcu_sample
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} = 0 ]; then
	exit 0
fi
SUDO=
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y "${missing[@]}"
