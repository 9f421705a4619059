# ONNX Runtime for the C++ runtime: headers from Debian's libonnxruntime-dev (unpacked into
# .deps/onnxruntime by scripts/fetch_ort_headers.sh on Debian 12, or installed on Debian 13), the
# library from the onnxruntime PyPI wheel of the Python that builds us. The wheel's library lacks
# the libonnxruntime.so.1 / libonnxruntime.so names; we create them in the build tree.
#
# Defines the imported target egom2p_onnxruntime and the variables EGOM2P_ORT_HEADERS_VERSION and
# EGOM2P_ORT_LINK_DIR (the folder with the symlinks, for build-tree rpaths).

set(EGOM2P_ORT_ROOT "${CMAKE_CURRENT_SOURCE_DIR}/.deps/onnxruntime" CACHE PATH
    "Folder with include/onnxruntime (the unpacked libonnxruntime-dev)")
find_path(EGOM2P_ORT_INCLUDE_DIR onnxruntime_cxx_api.h
  HINTS "${EGOM2P_ORT_ROOT}/include/onnxruntime" /usr/include/onnxruntime
  NO_DEFAULT_PATH)
if(NOT EGOM2P_ORT_INCLUDE_DIR)
  message(FATAL_ERROR
    "ONNX Runtime C/C++ headers not found in ${EGOM2P_ORT_ROOT}/include/onnxruntime or "
    "/usr/include/onnxruntime. Run scripts/fetch_ort_headers.sh (Debian 12) or "
    "`apt-get install libonnxruntime-dev` (Debian 13), or pass -DEGOM2P_ORT_ROOT=<dir>.")
endif()

set(EGOM2P_ORT_HEADERS_VERSION "unknown")
foreach(vf "${EGOM2P_ORT_ROOT}/VERSION" "/usr/lib/x86_64-linux-gnu/cmake/onnxruntime/onnxruntimeConfigVersion.cmake")
  if(EXISTS "${vf}" AND EGOM2P_ORT_HEADERS_VERSION STREQUAL "unknown")
    file(READ "${vf}" _ver_text)
    string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" _ver "${_ver_text}")
    if(_ver)
      set(EGOM2P_ORT_HEADERS_VERSION "${_ver}")
    endif()
  endif()
endforeach()

execute_process(
  COMMAND "${Python_EXECUTABLE}" -c
    "import glob, os, onnxruntime; d = os.path.join(os.path.dirname(onnxruntime.__file__), 'capi'); print(sorted(glob.glob(os.path.join(d, 'libonnxruntime.so.*')))[-1])"
  OUTPUT_VARIABLE EGOM2P_ORT_LIBRARY_FILE
  OUTPUT_STRIP_TRAILING_WHITESPACE
  RESULT_VARIABLE _ort_py_rc)
if(NOT _ort_py_rc EQUAL 0 OR NOT EXISTS "${EGOM2P_ORT_LIBRARY_FILE}")
  message(FATAL_ERROR
    "The onnxruntime Python wheel was not found for ${Python_EXECUTABLE}; "
    "install it with `pip install onnxruntime==1.32.0` (its library is the one we link).")
endif()

set(EGOM2P_ORT_LINK_DIR "${CMAKE_CURRENT_BINARY_DIR}/ort_lib")
file(MAKE_DIRECTORY "${EGOM2P_ORT_LINK_DIR}")
file(CREATE_LINK "${EGOM2P_ORT_LIBRARY_FILE}" "${EGOM2P_ORT_LINK_DIR}/libonnxruntime.so.1" SYMBOLIC)
file(CREATE_LINK "${EGOM2P_ORT_LIBRARY_FILE}" "${EGOM2P_ORT_LINK_DIR}/libonnxruntime.so" SYMBOLIC)

add_library(egom2p_onnxruntime SHARED IMPORTED GLOBAL)
set_target_properties(egom2p_onnxruntime PROPERTIES
  IMPORTED_LOCATION "${EGOM2P_ORT_LINK_DIR}/libonnxruntime.so"
  IMPORTED_SONAME "libonnxruntime.so.1"
  INTERFACE_INCLUDE_DIRECTORIES "${EGOM2P_ORT_INCLUDE_DIR}")
message(STATUS "ONNX Runtime headers ${EGOM2P_ORT_HEADERS_VERSION} at ${EGOM2P_ORT_INCLUDE_DIR}")
message(STATUS "ONNX Runtime library ${EGOM2P_ORT_LIBRARY_FILE}")
