# ctest `paths`: the runtime's compile-time fast paths (AVX-512, AVX2+FMA,
# plain C99) built with different -m flags and checked against exact
# references on odd sizes (tests/paths/paths_test.c).
add_test(NAME paths
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/run_paths.sh ${CMAKE_C_COMPILER} ${CMAKE_SOURCE_DIR}
          ${CMAKE_BINARY_DIR}/paths_work)

# ctest `paths_aarch64`: the NEON and plain C99 paths and the digits sample's
# generated C built for aarch64 and run under qemu-user (run_aarch64.sh);
# skipped when aarch64-linux-gnu-gcc or qemu-aarch64 is missing.
add_test(NAME paths_aarch64
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/run_aarch64.sh ${CMAKE_C_COMPILER} ${CMAKE_SOURCE_DIR}
          ${CMAKE_BINARY_DIR}/paths_aarch64_work $<TARGET_FILE:tostc>)
set_tests_properties(paths_aarch64 PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
