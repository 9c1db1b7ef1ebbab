# ctest `stream`: the step API (NAME_reset / NAME_step / NAME_prefill) of
# causal ToST models from ONNX and the DSL against the full-sequence NAME_run
# at every position (tests/stream/check_stream.c), and the streaming proof's
# rejections (tests/stream/run_stream.py).
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
add_test(NAME stream
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/run_stream.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/stream_work)
set_tests_properties(stream PROPERTIES TIMEOUT 300)
