# Hardening tests (docs/reliability.md).
#
# ctest `resources`: tostc's peak RSS and CPU time on the largest test model
# and on a synthetic 6000-node model, against generous bounds.
#
# ctest `hostile`: models whose names, doc strings, metadata, .tost file
# names, strings and weight keys try to write code or terminal escapes
# (hostile.py): the generated C builds as C99, C11 and C++, defines nothing
# the model asked for, and runs; refusals are one escaped message.
#
# ctest `symbols`: every ONNX node test model tostc accepts (compiled again
# here, since the conformance runner deletes passing cases), and the C the
# model tests, DSL equivalence, digits sample, resources, api, stream,
# charlm and weights tests generated (a --weights=blob model with its
# model.weights.S, which defines the blob's symbol)
# are compiled to object files that may reference only libm's functions and
# memcpy/memset/memmove (scripts/check_symbols.sh).  It runs after those
# tests (DEPENDS orders them; run the whole suite, as scripts/test.sh does).
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
set(_slack 1)
if(TOSTC_SANITIZE)
  set(_slack 4)   # ASan's shadow memory and quarantine, UBSan's checks
endif()
add_test(NAME resources
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/resources.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/resources_work
          --slack ${_slack} --scan ${CMAKE_BINARY_DIR}/models_work ${CMAKE_BINARY_DIR}/dsl_work)
set_tests_properties(resources PROPERTIES TIMEOUT 300 DEPENDS "models;dsl_equiv")

add_test(NAME hostile
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/hostile.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/hostile_work)
set_tests_properties(hostile PROPERTIES TIMEOUT 600)

add_test(NAME symbols
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/symbols.sh $<TARGET_FILE:tostc>
          ${CMAKE_BINARY_DIR}/onnxdata ${CMAKE_BINARY_DIR}/symbols_work
          ${CMAKE_BINARY_DIR}/models_work ${CMAKE_BINARY_DIR}/dsl_work
          ${CMAKE_BINARY_DIR}/digits_sample ${CMAKE_BINARY_DIR}/resources_work
          ${CMAKE_BINARY_DIR}/api_work ${CMAKE_BINARY_DIR}/stream_work
          ${CMAKE_BINARY_DIR}/charlm_sample ${CMAKE_BINARY_DIR}/weights_work)
set_tests_properties(symbols PROPERTIES TIMEOUT 900
  DEPENDS "conformance;models;dsl_equiv;digits_sample;resources;api;stream;charlm_sample;weights")
