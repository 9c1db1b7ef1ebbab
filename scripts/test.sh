#!/usr/bin/env bash
# test.sh -- configure, build and run every test (the command the README gives).
#
#   scripts/test.sh [ctest args...]
#
# Environment: TOSTC_NO_SETUP=1 skips scripts/setup.sh (apt-get of what is
# missing); BUILD_DIR (default build); BUILD_TYPE (default RelWithDebInfo);
# SANITIZE=1 for an ASan+UBSan build (-DTOSTC_SANITIZE=ON); TOSTC_PYTHON for a
# Python other than /usr/bin/python3 (it needs onnx, numpy, torch);
# TOSTC_TEST_CFLAGS: extra flags for the generated C the tests build and run
# (conformance, models, stream, api, ...; e.g. the sanitizers).
# Tests: see tests/README.md (units, cli, conformance, models, fusion, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
# the build and test dependencies (apt-get, only what is missing; TOSTC_NO_SETUP=1 skips)
if [ -x scripts/setup.sh ]; then
	scripts/setup.sh
fi
BUILD_DIR=${BUILD_DIR:-build}
args=(-S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}")
if [ "${SANITIZE:-0}" = 1 ]; then
	args+=(-DTOSTC_SANITIZE=ON)
fi
if [ -n "${TOSTC_PYTHON:-}" ]; then
	args+=(-DTOSTC_PYTHON="$TOSTC_PYTHON")
fi
cmake "${args[@]}"
cmake --build "$BUILD_DIR" -j2
cd "$BUILD_DIR"
status=0
ctest --output-on-failure "$@" || status=$?
# ctest hides the output of passing tests: repeat every runner's summary line
# (`<test>: N passed, N failed`, and conformance's `N passed, N failed, N unsupported`)
# and every `<test>: SKIPPED, why` of a test that could not run here
echo "== summary"
grep -E '^([a-z_]+: )?[0-9]+ passed, [0-9]+ failed|^[a-z_]+: SKIPPED' \
	Testing/Temporary/LastTest.log || true
exit "$status"
