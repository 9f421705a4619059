# Optional native dependencies: TensorRT (only where NvInfer.h, libnvinfer and the CUDA runtime
# exist, e.g. JetPack) and ZeroMQ (Debian's libzmq3-dev + cppzmq-dev).
# egom2p_apply_optional_deps(target) adds them; EGOM2P_WITH_TENSORRT / cppzmq_FOUND say which.

find_path(EGOM2P_TRT_INCLUDE_DIR NvInfer.h
  HINTS /usr/include/x86_64-linux-gnu /usr/include/aarch64-linux-gnu /usr/local/tensorrt/include
        $ENV{TENSORRT_ROOT}/include)
find_library(EGOM2P_TRT_LIBRARY nvinfer
  HINTS /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/local/tensorrt/lib
        $ENV{TENSORRT_ROOT}/lib)
if(EGOM2P_TRT_INCLUDE_DIR AND EGOM2P_TRT_LIBRARY)
  # The native backend also needs the CUDA runtime (device buffers, streams).
  find_package(CUDAToolkit QUIET)
endif()
if(EGOM2P_TRT_INCLUDE_DIR AND EGOM2P_TRT_LIBRARY AND CUDAToolkit_FOUND)
  set(EGOM2P_WITH_TENSORRT ON)
  message(STATUS "TensorRT found: ${EGOM2P_TRT_LIBRARY} with CUDA ${CUDAToolkit_VERSION} "
                 "(native TensorRT backend enabled)")
elseif(EGOM2P_TRT_INCLUDE_DIR AND EGOM2P_TRT_LIBRARY)
  set(EGOM2P_WITH_TENSORRT OFF)
  message(STATUS "TensorRT found but not the CUDA toolkit (find_package(CUDAToolkit)): the "
                 "native TensorRT backend is skipped; install cuda-cudart-dev / set CUDAToolkit_ROOT")
else()
  set(EGOM2P_WITH_TENSORRT OFF)
  message(STATUS "TensorRT not found (no NvInfer.h / libnvinfer): the TensorRT backend is skipped; "
                 "build on JetPack or set TENSORRT_ROOT to enable it")
endif()

find_package(cppzmq QUIET)
if(cppzmq_FOUND)
  find_package(PkgConfig QUIET)
  set(EGOM2P_ZMQ_VERSION "")
  if(PkgConfig_FOUND)
    pkg_check_modules(EGOM2P_LIBZMQ QUIET libzmq)
    set(EGOM2P_ZMQ_VERSION "${EGOM2P_LIBZMQ_VERSION}")
  endif()
  message(STATUS "ZeroMQ found (libzmq ${EGOM2P_ZMQ_VERSION}, cppzmq)")
else()
  message(STATUS "ZeroMQ (cppzmq) not found: the C++ frame bus is not built; "
                 "install libzmq3-dev cppzmq-dev")
endif()

function(egom2p_apply_optional_deps target)
  if(EGOM2P_WITH_TENSORRT)
    target_include_directories(${target} PRIVATE ${EGOM2P_TRT_INCLUDE_DIR})
    target_link_libraries(${target} PRIVATE ${EGOM2P_TRT_LIBRARY} CUDA::cudart)
    target_compile_definitions(${target} PRIVATE EGOM2P_WITH_TENSORRT=1)
  endif()
  if(cppzmq_FOUND)
    target_link_libraries(${target} PRIVATE cppzmq)
    target_compile_definitions(${target} PRIVATE EGOM2P_WITH_ZMQ=1
                                                 EGOM2P_ZMQ_VERSION="${EGOM2P_ZMQ_VERSION}")
  endif()
endfunction()
