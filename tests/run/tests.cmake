# ctest `run`: tostc run -- outputs bitwise those of an embed build (.npz and
# .npy in and out, by name and by position, 1 and 2 threads), the summary and
# --bench lines, and every error an input archive or the C compiler can cause
# (exit 1, one message, no temporary files left) (run_run.py).
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
add_test(NAME run
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/run_run.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/run_work)
set_tests_properties(run PROPERTIES TIMEOUT 900)
