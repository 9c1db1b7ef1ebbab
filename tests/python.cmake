# python.cmake -- the Python the script tests run with (included by the
# tests/*/tests.cmake files).  The tests need onnx, numpy and torch, which
# Debian's /usr/bin/python3 has; a pyenv `python3` earlier on PATH usually does
# not, so /usr/bin/python3 is preferred.  Override with -DTOSTC_PYTHON=...
include_guard(GLOBAL)
if(NOT TOSTC_PYTHON)
  if(EXISTS /usr/bin/python3)
    set(_py /usr/bin/python3)
  else()
    find_program(_py python3 REQUIRED)
  endif()
  set(TOSTC_PYTHON ${_py} CACHE FILEPATH "Python with onnx, numpy, torch for the tests")
endif()
