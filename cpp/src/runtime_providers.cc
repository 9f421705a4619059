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

namespace egom2p {
namespace {

DType FromOrt(ONNXTensorElementDataType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return DType::kFloat32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return DType::kFloat16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return DType::kInt64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return DType::kInt32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return DType::kUInt8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return DType::kBool;
    default: return DType::kUnknown;
  }
}

ONNXTensorElementDataType ToOrt(DType t) {
  switch (t) {
    case DType::kFloat32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case DType::kFloat16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case DType::kInt64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
    case DType::kInt32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case DType::kUInt8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
    case DType::kBool: return ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL;
    default: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  }
}

// ONNX Runtime keeps one environment per process; an Env made here shares it.
Ort::Env& ProviderEnv() {
  static Ort::Env* env = new Ort::Env(ORT_LOGGING_LEVEL_ERROR, "egom2p-providers");
  return *env;
}

TensorInfo Describe(const std::string& name, const Ort::TypeInfo& type_info) {
  TensorInfo info;
  info.name = name;
  if (type_info.GetONNXType() != ONNX_TYPE_TENSOR) return info;
  auto t = type_info.GetTensorTypeAndShapeInfo();
  info.dtype = FromOrt(t.GetElementType());
  info.shape = t.GetShape();
  std::vector<const char*> symbolic(info.shape.size(), nullptr);
  t.GetSymbolicDimensions(symbolic.data(), symbolic.size());
  for (size_t i = 0; i < info.shape.size(); ++i) {
    info.dim_names.emplace_back(info.shape[i] < 0 && symbolic[i] ? symbolic[i] : "");
  }
  return info;
}

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

class OrtProviderEngine final : public Engine {
 public:
  const std::string& path() const override { return path_; }
  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }
  std::string backend() const override { return backend_; }

  static Result<std::unique_ptr<Engine>> Create(const std::string& path, const EngineOptions& o,
                                                const ProviderOptions& p) {
    if (!std::filesystem::is_regular_file(path)) {
      return Status(StatusCode::kNotFound, "ONNX file '" + path + "' does not exist");
    }
    auto e = std::unique_ptr<OrtProviderEngine>(new OrtProviderEngine());
    e->path_ = path;
    e->backend_ = "onnxruntime";
    for (size_t i = 0; i < p.providers.size(); ++i) {
      e->backend_ += (i ? "," : ":") + p.providers[i];
    }
    try {
      Ort::SessionOptions so;
      if (o.intra_op_threads > 0) so.SetIntraOpNumThreads(o.intra_op_threads);
      if (o.inter_op_threads > 0) so.SetInterOpNumThreads(o.inter_op_threads);
      GraphOptimizationLevel level = ORT_ENABLE_ALL;
      if (o.graph_optimization == "disabled") level = ORT_DISABLE_ALL;
      if (o.graph_optimization == "basic") level = ORT_ENABLE_BASIC;
      if (o.graph_optimization == "extended") level = ORT_ENABLE_EXTENDED;
      so.SetGraphOptimizationLevel(level);
      AppendProviders(p, &so);
      e->session_ = std::make_unique<Ort::Session>(ProviderEnv(), path.c_str(), so);
      Ort::AllocatorWithDefaultOptions alloc;
      for (size_t i = 0; i < e->session_->GetInputCount(); ++i) {
        e->inputs_.push_back(Describe(e->session_->GetInputNameAllocated(i, alloc).get(),
                                      e->session_->GetInputTypeInfo(i)));
      }
      for (size_t i = 0; i < e->session_->GetOutputCount(); ++i) {
        e->outputs_.push_back(Describe(e->session_->GetOutputNameAllocated(i, alloc).get(),
                                       e->session_->GetOutputTypeInfo(i)));
      }
    } catch (const Ort::Exception& ex) {
      return Status(StatusCode::kFailedPrecondition,
                    "ONNX Runtime cannot open '" + path + "' on " + e->backend_ + ": " + ex.what());
    }
    return std::unique_ptr<Engine>(std::move(e));
  }

  Status Run(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    if (outputs == nullptr) return Status(StatusCode::kInvalidArgument, "outputs is null");
    std::vector<const Tensor*> ordered(inputs_.size(), nullptr);
    for (const Tensor& t : inputs) {
      size_t i = 0;
      while (i < inputs_.size() && inputs_[i].name != t.name) ++i;
      if (i == inputs_.size() || ordered[i] != nullptr) {
        return Status(StatusCode::kInvalidArgument,
                      "'" + path_ + "': input '" + t.name + "' is unknown or given twice");
      }
      if (t.dtype != inputs_[i].dtype || t.shape.size() != inputs_[i].shape.size() ||
          t.data.size() != t.NumBytes()) {
        return Status(StatusCode::kInvalidArgument,
                      "'" + path_ + "': input '" + t.name + "' must be " +
                          DTypeName(inputs_[i].dtype) + " " + inputs_[i].ShapeString() + ", got " +
                          DTypeName(t.dtype) + " " + ShapeToString(t.shape));
      }
      ordered[i] = &t;
    }
    for (size_t i = 0; i < ordered.size(); ++i) {
      if (ordered[i] == nullptr) {
        return Status(StatusCode::kInvalidArgument,
                      "'" + path_ + "': input '" + inputs_[i].name + "' was not given");
      }
    }
    try {
      Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
      std::vector<Ort::Value> values;
      std::vector<const char*> in_names, out_names;
      for (size_t i = 0; i < ordered.size(); ++i) {
        const Tensor& t = *ordered[i];
        values.push_back(Ort::Value::CreateTensor(mem, const_cast<uint8_t*>(t.data.data()),
                                                  t.data.size(), t.shape.data(), t.shape.size(),
                                                  ToOrt(t.dtype)));
        in_names.push_back(inputs_[i].name.c_str());
      }
      for (const TensorInfo& o : outputs_) out_names.push_back(o.name.c_str());
      std::vector<Ort::Value> results =
          session_->Run(Ort::RunOptions{nullptr}, in_names.data(), values.data(), values.size(),
                        out_names.data(), out_names.size());
      outputs->clear();
      for (size_t i = 0; i < results.size(); ++i) {
        auto info = results[i].GetTensorTypeAndShapeInfo();
        Tensor out;
        out.name = outputs_[i].name;
        out.dtype = FromOrt(info.GetElementType());
        out.shape = info.GetShape();
        out.data.resize(out.NumBytes());
        if (!out.data.empty()) {
          std::memcpy(out.data.data(), results[i].GetTensorRawData(), out.data.size());
        }
        outputs->push_back(std::move(out));
      }
    } catch (const Ort::Exception& ex) {
      return Status(StatusCode::kInternal,
                    "ONNX Runtime (" + backend_ + ") failed running '" + path_ + "': " + ex.what());
    }
    return Status::Ok();
  }

 private:
  OrtProviderEngine() = default;
  std::string path_;
  std::string backend_;
  std::unique_ptr<Ort::Session> session_;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
};

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
  return OrtProviderEngine::Create(onnx_path, options, providers);
}

}  // namespace egom2p
