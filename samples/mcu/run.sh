#!/bin/sh
# run.sh -- the digits classifier on a Cortex-M4F, in QEMU (mps2-an386),
# built twice: from the C backend's digits.c with arm-none-eabi-gcc, and
# from the LLVM backend's digits.o (tostc --target thumbv7em-none-eabihf
# --cpu cortex-m4).  Each image classifies the test digits it carries and
# must print the accuracy PyTorch reached (samples/digits/expected.txt),
# then its flash and static RAM footprint.
# Usage: samples/mcu/run.sh   (from anywhere; builds tostc if needed)
# Needs gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm; exits
# 77 (skipped) without them, or without a tostc that has the Armv7E-M
# kernels (its LLVM backend), unless TOSTC_REQUIRE_MCU=1.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${TOSTC_BUILD:-$root/build}
out=${OUT:-$build/samples/mcu}
digits=$root/samples/digits

if [ ! -x "$build/tostc" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$build" -j2 --target tostc >/dev/null
fi
why=
for t in arm-none-eabi-gcc arm-none-eabi-objcopy qemu-system-arm; do
	command -v $t >/dev/null 2>&1 || why="${why:+$why, }$t not found"
done
"$build/tostc" --version | grep -q armv7em_fpv4 || why="${why:+$why, }tostc has no Armv7E-M kernels"
if [ -n "$why" ]; then
	echo "mcu_sample: SKIPPED, $why (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)"
	[ "${TOSTC_REQUIRE_MCU:-0}" = 1 ] && exit 1
	exit 77
fi

cpu="-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard"
want="$(sed -n 's/^correct //p' "$digits/expected.txt")/$(sed -n 's/^total //p' "$digits/expected.txt")"
echo "PyTorch: test accuracy: $want"
mkdir -p "$out/c" "$out/llvm"
# the test split as read-only data: _binary_digits_test_bin_start/_end
cp "$digits/digits_test.bin" "$out/digits_test.bin"
(cd "$out" && arm-none-eabi-objcopy -I binary -O elf32-littlearm -B arm \
	--rename-section .data=.rodata,alloc,load,readonly,data,contents \
	--set-section-alignment .rodata=8 digits_test.bin digits_test.o)

"$build/tostc" "$digits/digits.onnx" -o "$out/c/digits.c" --name digits
"$build/tostc" "$digits/digits.onnx" -o "$out/llvm/digits.o" --name digits \
	--target thumbv7em-none-eabihf --cpu cortex-m4
status=0
for b in c llvm; do
	model=$out/$b/digits.c
	[ $b = llvm ] && model=$out/$b/digits.o
	# shellcheck disable=SC2086  # $cpu: several flags
	arm-none-eabi-gcc $cpu -std=c99 -O2 --specs=rdimon.specs -T "$here/mps2_an386.ld" \
		-Wl,--no-warn-rwx-segments -Wl,--no-warn-execstack -Wl,-Map="$out/$b/digits.map" -I"$out/$b" \
		"$here/startup.c" "$here/main.c" "$model" "$out/digits_test.o" -lm -o "$out/$b/digits.elf"
	log=$out/$b/run.log
	timeout 300 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
		-semihosting-config enable=on,target=native -kernel "$out/$b/digits.elf" > "$log" 2>&1 || true
	sed "s/^/$b: /" "$log"
	case "$(grep 'test accuracy' "$log")" in
	*" $want = "*) ;;
	*) echo "mcu_sample: the $b image does not reach $want"; status=1 ;;
	esac
done
[ "$status" = 0 ] && echo "mcu_sample: both images reach $want"
exit $status
