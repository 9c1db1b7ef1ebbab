#!/bin/sh
# check_consumer.sh SRC BUILD WORK -- ctest `cmake_consumer`: tostc as a CMake
# package, used the way a product would (samples/cmake).
#   1. `cmake --install BUILD --prefix WORK/prefix` installs bin/tostc and
#      lib/cmake/tostc (tostcConfig.cmake, its version file,
#      TostcAddModel.cmake);
#   2. samples/cmake (a copy, with the models) is configured against that
#      prefix with find_package(tostc), built and run in every weights mode
#      (embed, blob, extern) with Ninja and with Makefiles: its C program
#      (digits and charlm, with the step API) and its C++ program (digits
#      twice, fused and unfused, under two names) print bitwise the same in
#      all six builds; the blob builds with -DOPENMP=ON (charlm with
#      tostc_add_model's OPENMP: the program must call into libgomp);
#   3. regeneration, with each generator: a second build runs tostc for no
#      model; touching digits.safetensors (read by digits.tost) regenerates
#      the two digits models only, touching charlm.onnx charlm only, touching
#      the installed tostc all three;
#   4. the same project with tostc's source tree instead of the package
#      (-DTOSTC_SOURCE_DIR: add_subdirectory, which builds tostc too) gives
#      the same classifications and text (the logits only to rounding: with
#      $TOSTC_TEST_CFLAGS this tostc is built with -march=native, and folds
#      constants with other kernels than the installed one).
# The programs are built with $TOSTC_TEST_CFLAGS (CI: the sanitizers).
# Without Ninja its builds are skipped, and the summary says so.
set -eu
src=$1 build=$2 work=$3
flags=${TOSTC_TEST_CFLAGS:-}
export OMP_NUM_THREADS=2   # the OpenMP builds run on 2 threads
rm -rf "$work"
mkdir -p "$work/src"
n=0
fail() {
	echo "cmake_consumer: $*"
	echo "cmake_consumer: FAILED"
	exit 1
}

# 1. the package
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
for f in bin/tostc lib/cmake/tostc/tostcConfig.cmake lib/cmake/tostc/tostcConfigVersion.cmake \
	lib/cmake/tostc/TostcAddModel.cmake; do
	[ -e "$work/prefix/$f" ] || fail "cmake --install did not install $f"
done
n=$((n + 1))
echo "installed: bin/tostc, lib/cmake/tostc"
cp -r "$src/samples/cmake" "$src/samples/digits" "$src/samples/charlm" "$work/src/"

gens="Unix Makefiles"
if command -v ninja > /dev/null 2>&1; then
	gens="Ninja
Unix Makefiles"
else
	echo "cmake_consumer: SKIPPED, the Ninja builds: ninja not found (apt-get install ninja-build)"
fi

# configure DIR GENERATOR ARGS...: configure and build samples/cmake into DIR
configure() {
	b=$1 gen=$2
	shift 2
	cmake -S "$work/src/cmake" -B "$b" -G "$gen" -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
		"$@" > "$b.log" 2>&1 || { cat "$b.log"; fail "$b: cmake configure failed"; }
	rebuild "$b"
}
# rebuild DIR: build; how many models tostc (re)generated goes to $regen
rebuild() {
	cmake --build "$1" -j2 > "$1.build.log" 2>&1 || { tail -n 30 "$1.build.log"; fail "$1: build failed"; }
	regen=$(grep -c 'tostc .* -> .*\.c (weights' "$1.build.log" || true)
}
# touched FILE N: after FILE changes, a build of $b runs tostc for N models
touched() {
	touch "$1"
	rebuild "$b"
	[ "$regen" = "$2" ] || fail "$gen: $(basename "$1") touched: tostc ran for $regen models, not $2"
}
# outputs DIR: run both programs; their output must be the first build's
ref=
outputs() {
	"$1/sample" > "$1/sample.txt" || fail "$1/sample failed"
	"$1/sample_cxx" > "$1/sample_cxx.txt" || fail "$1/sample_cxx failed"
	cat "$1/sample.txt" "$1/sample_cxx.txt" > "$1/out.txt"
	if [ -z "$ref" ]; then
		ref=$1/out.txt
		cat "$ref"
	elif ! cmp -s "$ref" "$1/out.txt"; then
		diff "$ref" "$1/out.txt" | head -n 10
		fail "$1: the programs' output differs from $(dirname "$ref")'s"
	fi
	n=$((n + 1))
}

# 2. every mode, every generator
echo "$gens" | while IFS= read -r gen; do
	g=$(echo "$gen" | tr -cd 'A-Za-z')
	for mode in embed blob extern; do
		b=$work/$g-$mode
		openmp=OFF
		[ $mode = blob ] && openmp=ON
		configure "$b" "$gen" -DCMAKE_PREFIX_PATH="$work/prefix" -DWEIGHTS=$mode -DOPENMP=$openmp
		[ "$regen" = 3 ] || fail "$b: tostc ran for $regen models, not 3"
		if [ $openmp = ON ] && ! nm "$b/sample" | grep -q ' U GOMP_'; then
			fail "$b: OPENMP given, but sample does not call OpenMP"
		fi
		outputs "$b"
		echo "$gen, WEIGHTS $mode (OpenMP $openmp): built, output equal to the first build's"
	done

	# 3. regeneration: only what changed, and what reads it
	b=$work/$g-blob
	sleep 1   # a file system with coarse time stamps: the touch must be newer
	rebuild "$b"
	[ "$regen" = 0 ] || fail "$gen: a second build ran tostc for $regen models"
	touched "$work/src/digits/digits.safetensors" 2
	touched "$work/src/charlm/charlm.onnx" 1
	touched "$work/prefix/bin/tostc" 3
	outputs "$b"
	echo "$gen: regenerated only what changed (nothing; the 2 digits models; charlm; all 3 for a new tostc)"
	echo "$n" > "$work/count.$g"
done
[ -f "$work/count.UnixMakefiles" ] || exit 1
n=$(cat "$work/count.UnixMakefiles")
ref=$(ls "$work"/*-embed/out.txt | head -n 1)

# 4. tostc from its source tree, built with the project
gen=$(echo "$gens" | head -n 1)
b=$work/subdir
configure "$b" "$gen" -DTOSTC_SOURCE_DIR="$src" -DWEIGHTS=blob
"$b/sample" > "$b/sample.txt" || fail "$b/sample failed"
"$b/sample_cxx" > "$b/sample_cxx.txt" || fail "$b/sample_cxx failed"
verdicts() {   # the lines without logits
	cat "$1/sample.txt" "$1/sample_cxx.txt" | grep -E '^(digits: accuracy|charlm: [^l]|fused and)' |
		sed 's/; max .*//'
}
[ "$(verdicts "$b" | wc -l)" = 3 ] || fail "$b: the programs' output lacks its verdicts"
[ "$(verdicts "$b")" = "$(verdicts "$(dirname "$ref")")" ] ||
	fail "$b: the classifications or the text differ from $(dirname "$ref")'s"
n=$((n + 1))
echo "add_subdirectory of tostc's source ($gen, WEIGHTS blob): the same classifications and text"
echo "cmake_consumer: $n passed, 0 failed"
