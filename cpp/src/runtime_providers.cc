// ONNX Runtime engines on execution providers (TensorRT, CUDA, CPU): resolving what the caller
// asks against what the loaded library has, provider options, and the engine itself (the
// python twin of the resolution rules: python/egom2p_edge/streaming/providers.py).
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include "egom2p/backends.h"
#include "ort_session.h"

namespace egom2p {
namespace {

// Options of one provider as key/value strings (ONNX Runtime's names).
std::vector<std::pair<std::string, std::string>> TensorRtKeys(const ProviderOptions& p) {
  const std::string cache =
      p.engine_cache_dir.empty() ? DefaultEngineCacheDir() : p.engine_cache_dir;
  const bool fp16 = p.precision == "fp16" || p.precision == "int8";
  return {{"device_id", std::to_string(p.device_id)},
          {"trt_engine_cache_enable", "1"},
          {"trt_engine_cache_path", cache},
          {"trt_timing_cache_enable", "1"},
          {"trt_timing_cache_path", cache},
          {"trt_fp16_enable", fp16 ? "1" : "0"},
          {"trt_int8_enable", p.precision == "int8" ? "1" : "0"}};
}

void AppendProviders(const ProviderOptions& p, Ort::SessionOptions* so) {
  const OrtApi& api = Ort::GetApi();
  for (const std::string& name : p.providers) {
    if (name == "tensorrt") {
      const auto kv = TensorRtKeys(p);
      std::error_code ec;
      std::filesystem::create_directories(kv[2].second, ec);  // ONNX Runtime does not
      std::vector<const char*> keys, values;
      for (const auto& [k, v] : kv) {
        keys.push_back(k.c_str());
        values.push_back(v.c_str());
      }
      OrtTensorRTProviderOptionsV2* trt = nullptr;
      Ort::ThrowOnError(api.CreateTensorRTProviderOptions(&trt));
      std::unique_ptr<OrtTensorRTProviderOptionsV2, decltype(api.ReleaseTensorRTProviderOptions)>
          guard(trt, api.ReleaseTensorRTProviderOptions);
      Ort::ThrowOnError(
          api.UpdateTensorRTProviderOptions(trt, keys.data(), values.data(), keys.size()));
      so->AppendExecutionProvider_TensorRT_V2(*trt);
    } else if (name == "cuda") {
      const std::string device = std::to_string(p.device_id);
      const char* keys[] = {"device_id"};
      const char* values[] = {device.c_str()};
      OrtCUDAProviderOptionsV2* cuda = nullptr;
      Ort::ThrowOnError(api.CreateCUDAProviderOptions(&cuda));
      std::unique_ptr<OrtCUDAProviderOptionsV2, decltype(api.ReleaseCUDAProviderOptions)> guard(
          cuda, api.ReleaseCUDAProviderOptions);
      Ort::ThrowOnError(api.UpdateCUDAProviderOptions(cuda, keys, values, 1));
      so->AppendExecutionProvider_CUDA_V2(*cuda);
    }
    // "cpu": ONNX Runtime's default, always last.
  }
}

}  // namespace

std::string OrtProviderName(const std::string& short_name) {
  if (short_name == "tensorrt") return "TensorrtExecutionProvider";
  if (short_name == "cuda") return "CUDAExecutionProvider";
  if (short_name == "cpu") return "CPUExecutionProvider";
  return "";
}

std::vector<std::string> OrtAvailableProviders() {
  try {
    return Ort::GetAvailableProviders();
  } catch (const Ort::Exception&) {
    return {"CPUExecutionProvider"};
  }
}

std::string DefaultEngineCacheDir() {
  const char* env = std::getenv("EGOM2P_ENGINE_CACHE");
  if (env != nullptr && env[0] != '\0') return std::string(env) + "/ort-tensorrt";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/egom2p-edge/ort-tensorrt";
}

Result<std::vector<std::string>> ResolveProviders(const ProviderOptions& options,
                                                  const std::vector<std::string>& available) {
  if (options.providers.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "providers must list at least one of tensorrt, cuda, cpu");
  }
  std::set<std::string> seen;
  for (const std::string& p : options.providers) {
    if (OrtProviderName(p).empty() || !seen.insert(p).second) {
      return Status(
          StatusCode::kInvalidArgument,
          "providers must name each of tensorrt, cuda, cpu at most once, got '" + p + "'");
    }
  }
  std::string offered;
  for (const auto& a : available) offered += (offered.empty() ? "" : ", ") + a;
  std::vector<std::string> used;
  for (const std::string& p : options.providers) {
    const std::string name = OrtProviderName(p);
    if (std::find(available.begin(), available.end(), name) != available.end()) {
      used.push_back(p);
    } else if (!options.allow_fallback) {
      return Status(StatusCode::kUnavailable,
                    "execution provider '" + p + "' (" + name +
                        ") is not in this ONNX Runtime, which offers [" + offered +
                        "]; install a GPU build of ONNX Runtime (onnxruntime-gpu, or JetPack's) "
                        "or pass allow_fallback=True to run on the next provider");
    }
  }
  if (used.empty()) used.push_back("cpu");
  return used;
}

Result<std::unique_ptr<Engine>> CreateOrtProviderEngine(const std::string& onnx_path,
                                                        const EngineOptions& options,
                                                        const ProviderOptions& providers) {
  std::string backend = "onnxruntime";
  for (size_t i = 0; i < providers.providers.size(); ++i) {
    backend += (i ? "," : ":") + providers.providers[i];
  }
  return CreateOrtEngineWith(onnx_path, options, backend, [&providers](Ort::SessionOptions* so) {
    AppendProviders(providers, so);
  });
}

}  // namespace egom2p
