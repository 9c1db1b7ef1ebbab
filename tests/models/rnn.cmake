# ctest `rnn`: the recurrent layers RNN, GRU and LSTM (tests/models/test_rnn.py):
# single nodes against a numpy reference of the ONNX spec, LSTM and GRU
# classifiers from PyTorch, and stateful GRU / LSTM models run frame by frame
# against the whole sequence; plain C99 and native kernels.
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
add_test(NAME rnn
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_rnn.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/rnn_work)
set_tests_properties(rnn PROPERTIES TIMEOUT 900)
