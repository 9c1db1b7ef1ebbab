# ctest `selftest`: the runners' comparisons fail on a wrong shape or a
# missing output (tests/selftest/test_runners.py).
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
add_test(NAME selftest COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_runners.py)
