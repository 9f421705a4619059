// Build facts from CMake definitions.
#include "egom2p/build_info.h"

#include "egom2p/engine.h"

#ifndef EGOM2P_COMPILER
#define EGOM2P_COMPILER "unknown"
#endif
#ifndef EGOM2P_BUILD_TYPE
#define EGOM2P_BUILD_TYPE "unknown"
#endif

namespace egom2p {

BuildInfo GetBuildInfo() {
  BuildInfo info;
  info.onnxruntime_headers_version = OrtHeadersVersion();
  info.onnxruntime_library_version = OrtLibraryVersion();
#ifdef EGOM2P_WITH_TENSORRT
  info.tensorrt = true;
#endif
#ifdef EGOM2P_ZMQ_VERSION
  info.zeromq = EGOM2P_ZMQ_VERSION;
#endif
  info.compiler = EGOM2P_COMPILER;
  info.build_type = EGOM2P_BUILD_TYPE;
  return info;
}

}  // namespace egom2p
