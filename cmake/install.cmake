# `cmake --install` of the C++ SDK: libegom2p_core.a as the target egom2p::runtime, the public
# headers (include/egom2p), the egom2p-* tools (bin, rpath $ORIGIN/../lib) and a package config:
#
#   find_package(egom2p_runtime REQUIRED)     # CMAKE_PREFIX_PATH=<prefix>
#   target_link_libraries(app PRIVATE egom2p::runtime)
#
# ONNX Runtime: with EGOM2P_INSTALL_ONNXRUNTIME (default ON) the library this build linked
# (libonnxruntime.so.1, plus any libonnxruntime_providers_*.so next to it: the CUDA / TensorRT
# providers of a GPU build) and its headers are installed too, so the prefix is self-contained and
# relocatable; OFF makes the config point at the build machine's copy instead. Builds with
# ZeroMQ or TensorRT make the config find cppzmq / CUDAToolkit as well.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

option(EGOM2P_INSTALL_ONNXRUNTIME
       "Install the ONNX Runtime library and headers with the C++ runtime" ON)
set(_cfg_dir "${CMAKE_INSTALL_LIBDIR}/cmake/egom2p_runtime")

install(TARGETS egom2p_core EXPORT egom2p_runtimeTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY cpp/include/egom2p DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT egom2p_runtimeTargets NAMESPACE egom2p:: DESTINATION ${_cfg_dir})
if(EGOM2P_TOOLS)
  install(TARGETS ${EGOM2P_TOOLS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

if(EGOM2P_INSTALL_ONNXRUNTIME)
  get_filename_component(_ort_dir "${EGOM2P_ORT_LIBRARY_FILE}" DIRECTORY)
  file(GLOB _ort_providers "${_ort_dir}/libonnxruntime_providers_*.so")
  install(FILES "${EGOM2P_ORT_LIBRARY_FILE}" DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RENAME libonnxruntime.so.1)
  if(_ort_providers)
    install(FILES ${_ort_providers} DESTINATION ${CMAKE_INSTALL_LIBDIR})
  endif()
  install(DIRECTORY "${EGOM2P_ORT_INCLUDE_DIR}/"
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/onnxruntime)
  # Evaluated when the config is read: relative to wherever the prefix now is.
  set(EGOM2P_CONFIG_ORT_LIBRARY "\${PACKAGE_PREFIX_DIR}/${CMAKE_INSTALL_LIBDIR}/libonnxruntime.so.1")
  set(EGOM2P_CONFIG_ORT_INCLUDE "\${PACKAGE_PREFIX_DIR}/${CMAKE_INSTALL_INCLUDEDIR}/onnxruntime")
else()
  set(EGOM2P_CONFIG_ORT_LIBRARY "${EGOM2P_ORT_LIBRARY_FILE}")
  set(EGOM2P_CONFIG_ORT_INCLUDE "${EGOM2P_ORT_INCLUDE_DIR}")
endif()
set(EGOM2P_CONFIG_WITH_ZMQ ${cppzmq_FOUND})
set(EGOM2P_CONFIG_WITH_TENSORRT ${EGOM2P_WITH_TENSORRT})

configure_package_config_file(cmake/egom2p_runtimeConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/egom2p_runtimeConfig.cmake" INSTALL_DESTINATION ${_cfg_dir})
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/egom2p_runtimeConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/egom2p_runtimeConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/egom2p_runtimeConfigVersion.cmake"
        DESTINATION ${_cfg_dir})
