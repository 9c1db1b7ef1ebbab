# ctest `paths`: the runtime's compile-time fast paths (AVX-512, AVX2+FMA,
# plain C99) built with different -m flags and checked against exact
# references on odd sizes (tests/paths/paths_test.c).
add_test(NAME paths
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/run_paths.sh ${CMAKE_C_COMPILER} ${CMAKE_SOURCE_DIR}
          ${CMAKE_BINARY_DIR}/paths_work)
