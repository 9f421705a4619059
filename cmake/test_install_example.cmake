# CTest script: installs the build BUILD_DIR into WORK_DIR/prefix, builds the example SOURCE_DIR
# (cpp/examples/minimal) against that prefix only, and runs it: without arguments it prints its
# usage (exit 2); on a folder that is not a bundle it reports the runtime's error (exit 1).
# A bundle in $EGOM2P_TEST_BUNDLE is streamed too.
foreach(v BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR)
  if(NOT ${v})
    message(FATAL_ERROR "test_install_example.cmake needs -D${v}=...")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

run_step("install" ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
run_step("configure the example" ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build"
         -G "${GENERATOR}" "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" -DCMAKE_BUILD_TYPE=Release)
run_step("build the example" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")

set(exe "${WORK_DIR}/build/egom2p_minimal")
execute_process(COMMAND "${exe}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT err MATCHES "usage: egom2p_minimal BUNDLE_DIR")
  message(FATAL_ERROR "the example without arguments: exit ${rc}\n${out}\n${err}")
endif()
execute_process(COMMAND "${exe}" "${WORK_DIR}/no_bundle_here" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT err MATCHES "does not exist")
  message(FATAL_ERROR "the example on a missing bundle: exit ${rc}\n${out}\n${err}")
endif()
if(DEFINED ENV{EGOM2P_TEST_BUNDLE})
  run_step("the example on $ENV{EGOM2P_TEST_BUNDLE}" "${exe}" "$ENV{EGOM2P_TEST_BUNDLE}")
endif()
message(STATUS "the installed runtime built and ran ${exe}")
