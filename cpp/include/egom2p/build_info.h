// Facts about how this runtime was built (set by CMake), reported by `egom2p doctor`.
#pragma once

#include <string>

namespace egom2p {

struct BuildInfo {
  std::string onnxruntime_headers_version;  // the libonnxruntime-dev headers compiled against
  std::string onnxruntime_library_version;  // the library loaded at run time
  bool tensorrt = false;                    // native TensorRT backend compiled in
  std::string zeromq;                       // libzmq version, empty when built without ZeroMQ
  std::string compiler;
  std::string build_type;
};

BuildInfo GetBuildInfo();

}  // namespace egom2p
