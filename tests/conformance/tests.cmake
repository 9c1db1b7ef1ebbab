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

