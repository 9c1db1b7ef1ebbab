# ctest `conformance`: the ONNX backend node tests (generated into the build
# dir by scripts/gen_onnx_tests.py when missing) through tostc, C compiler and
# a numpy comparison; known failures in expected.txt.
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
set(CONFORMANCE_DATA ${CMAKE_BINARY_DIR}/onnxdata)
add_test(NAME conformance
  COMMAND sh -c "\"$0\" \"$1\" \"$2\" && exec \"$0\" \"$3\" --tostc \"$4\" --data \"$2\" --work \"$5\" --jobs 2 --expect \"$6\""
          ${TOSTC_PYTHON}
          ${CMAKE_SOURCE_DIR}/scripts/gen_onnx_tests.py
          ${CONFORMANCE_DATA}
          ${CMAKE_CURRENT_LIST_DIR}/run.py
          $<TARGET_FILE:tostc>
          ${CMAKE_BINARY_DIR}/conformance_work
          ${CMAKE_CURRENT_LIST_DIR}/expected.txt)
set_tests_properties(conformance PROPERTIES TIMEOUT 3600)
