# ctest `conformance` and `conformance_native`: the ONNX backend node tests
# (generated into the build dir by scripts/gen_onnx_tests.py when missing)
# through tostc, C compiler and a numpy comparison; known failures in
# expected.txt, the cases that must pass in passing.txt.  `conformance` builds
# the generated C's plain C99 kernels, `conformance_native` this CPU's SIMD
# kernels (-march=native; skipped when it has none).
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
set(CONFORMANCE_DATA ${CMAKE_BINARY_DIR}/onnxdata)
foreach(isa plain native)
  if(isa STREQUAL plain)
    set(_name conformance)
  else()
    set(_name conformance_${isa})
  endif()
  add_test(NAME ${_name}
    COMMAND sh -c "\"$0\" \"$1\" \"$2\" && exec \"$0\" \"$3\" --tostc \"$4\" --data \"$2\" --work \"$5\" --jobs 2 --expect \"$6\" --passing \"$7\" --isa $8"
            ${TOSTC_PYTHON}
            ${CMAKE_SOURCE_DIR}/scripts/gen_onnx_tests.py
            ${CONFORMANCE_DATA}
            ${CMAKE_CURRENT_LIST_DIR}/run.py
            $<TARGET_FILE:tostc>
            ${CMAKE_BINARY_DIR}/${_name}_work
            ${CMAKE_CURRENT_LIST_DIR}/expected.txt
            ${CMAKE_CURRENT_LIST_DIR}/passing.txt
            ${isa})
  set_tests_properties(${_name} PROPERTIES TIMEOUT 3600 SKIP_RETURN_CODE 77)
endforeach()
# both generate the data when it is missing: not at the same time
set_tests_properties(conformance_native PROPERTIES DEPENDS conformance)

# ctest `op_coverage`: every op of `tostc --list-ops` is used by a conformance
# case of passing.txt or by a model test's ONNX export (op_coverage.py); after
# the tests that write those exports.
add_test(NAME op_coverage
  COMMAND sh -c "\"$0\" \"$1\" \"$2\" > /dev/null && exec \"$0\" \"$3\" --tostc \"$4\" --data \"$2\" --passing \"$5\" --models \"$6\"/models_work \"$6\"/fusion_work \"$6\"/epilogue_work \"$6\"/demand_work \"$6\"/absorb_work \"$6\"/dsl_work"
          ${TOSTC_PYTHON}
          ${CMAKE_SOURCE_DIR}/scripts/gen_onnx_tests.py
          ${CONFORMANCE_DATA}
          ${CMAKE_CURRENT_LIST_DIR}/op_coverage.py
          $<TARGET_FILE:tostc>
          ${CMAKE_CURRENT_LIST_DIR}/passing.txt
          ${CMAKE_BINARY_DIR})
set_tests_properties(op_coverage PROPERTIES
  DEPENDS "conformance;conformance_native;models;fusion;epilogue;demand;absorb;dsl_equiv")
