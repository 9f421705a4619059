// Internal: the ONNX Runtime engine with a hook that adds execution providers to its session
// options (used by runtime_providers.cc; CreateOrtEngine is the hook-less CPU case).
#pragma once

#include <onnxruntime_cxx_api.h>

#include <functional>
#include <memory>
#include <string>

#include "egom2p/engine.h"

namespace egom2p {

// `configure` runs on the session options after threads and optimisation level are set (it may
// throw Ort::Exception); `backend` names the engine in messages and in Engine::backend().
Result<std::unique_ptr<Engine>> CreateOrtEngineWith(
    const std::string& onnx_path, const EngineOptions& options, const std::string& backend,
    const std::function<void(Ort::SessionOptions*)>& configure);

}  // namespace egom2p
