// What a Runtime holds (internal): the validated manifest and one engine per stage it runs.
// Immutable after Runtime::Load; streams share it through a shared_ptr.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "egom2p/bundle.h"
#include "egom2p/engine.h"
#include "egom2p/runtime.h"

namespace egom2p {

struct RuntimeState {
  BundleManifest manifest;
  RuntimeOptions options;
  // stage -> engine. Engines are only Run (ONNX Runtime sessions may run concurrently; the
  // TensorRT engines lock around their execution context).
  std::map<std::string, std::unique_ptr<Engine>> engines;
  std::map<std::string, std::string> stage_backends;  // stage -> Engine::backend()

  Engine* engine(const std::string& stage) const {
    auto it = engines.find(stage);
    return it == engines.end() ? nullptr : it->second.get();
  }
};

}  // namespace egom2p
