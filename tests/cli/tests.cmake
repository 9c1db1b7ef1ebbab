# ctest `cli`: tostc's exit status, message and output files for bad input
# (missing/empty/truncated/random files, unsupported ops, bad --dim, ...).
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
add_test(NAME cli
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/run_cli.py -v
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/cli_work)
set_tests_properties(cli PROPERTIES TIMEOUT 600)
