# ctest `cmake_consumer`: tostc installed into a temporary prefix as a CMake
# package, and samples/cmake built against it (find_package(tostc),
# tostc_add_model) in the three weights modes with Ninja and Makefiles, its
# outputs compared; regeneration only when a model, its weights or tostc
# changes; then the same with tostc's source tree (add_subdirectory).
add_test(NAME cmake_consumer
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/check_consumer.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}
          ${CMAKE_BINARY_DIR}/cmake_consumer_work)
set_tests_properties(cmake_consumer PROPERTIES TIMEOUT 1800)
