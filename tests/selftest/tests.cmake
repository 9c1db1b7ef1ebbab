# ctest `selftest`: the runners' comparisons and list checks fail on a wrong
# shape, a missing output, a known failure of another kind, a case lost from
# the conformance floor (tests/selftest/test_runners.py).
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
add_test(NAME selftest COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_runners.py)
