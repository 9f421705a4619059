// The ONNX Runtime CPU engine: loads one ONNX file, describes its inputs and outputs, runs it.
// ONNX Runtime's C++ API throws Ort::Exception; every call is wrapped so that only Status values
// leave this file.
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "egom2p/engine.h"
#include "ort_session.h"

#ifndef EGOM2P_ORT_HEADERS_VERSION
#define EGOM2P_ORT_HEADERS_VERSION "unknown"
#endif

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

// One process-wide ONNX Runtime environment (ONNX Runtime allows only one per process).
Ort::Env& SharedEnv() {
  static Ort::Env* env = new Ort::Env(ORT_LOGGING_LEVEL_ERROR, "egom2p");
  return *env;
}

TensorInfo DescribeTypeInfo(const std::string& name, const Ort::TypeInfo& type_info) {
  TensorInfo info;
  info.name = name;
  if (type_info.GetONNXType() != ONNX_TYPE_TENSOR) return info;
  auto tensor_info = type_info.GetTensorTypeAndShapeInfo();
  info.dtype = FromOrt(tensor_info.GetElementType());
  info.shape = tensor_info.GetShape();
  std::vector<const char*> symbolic(info.shape.size(), nullptr);
  tensor_info.GetSymbolicDimensions(symbolic.data(), symbolic.size());
  for (size_t i = 0; i < info.shape.size(); ++i) {
    info.dim_names.emplace_back(info.shape[i] < 0 && symbolic[i] ? symbolic[i] : "");
  }
  return info;
}

class OrtEngine final : public Engine {
 public:
  const std::string& path() const override { return path_; }
  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }
  std::string backend() const override { return backend_; }

  static Result<std::unique_ptr<Engine>> Create(
      const std::string& path, const EngineOptions& options, const std::string& backend,
      const std::function<void(Ort::SessionOptions*)>& configure) {
    std::ifstream probe(path, std::ios::binary);
    if (!probe.good()) {
      return Status(StatusCode::kNotFound, "ONNX file '" + path +
                                               "' does not exist or cannot be read; check the path "
                                               "(a bundle lists its files in bundle.json)");
    }
    auto engine = std::unique_ptr<OrtEngine>(new OrtEngine());
    engine->path_ = path;
    engine->backend_ = backend;
    try {
      Ort::SessionOptions so;
      if (options.intra_op_threads > 0) so.SetIntraOpNumThreads(options.intra_op_threads);
      if (options.inter_op_threads > 0) so.SetInterOpNumThreads(options.inter_op_threads);
      GraphOptimizationLevel level = ORT_ENABLE_ALL;
      if (options.graph_optimization == "disabled")
        level = ORT_DISABLE_ALL;
      else if (options.graph_optimization == "basic")
        level = ORT_ENABLE_BASIC;
      else if (options.graph_optimization == "extended")
        level = ORT_ENABLE_EXTENDED;
      else if (options.graph_optimization != "all")
        return Status(StatusCode::kInvalidArgument,
                      "graph_optimization '" + options.graph_optimization +
                          "' is not one of all, extended, basic, disabled");
      so.SetGraphOptimizationLevel(level);
      if (configure) configure(&so);
      engine->session_ = std::make_unique<Ort::Session>(SharedEnv(), path.c_str(), so);
      Ort::AllocatorWithDefaultOptions alloc;
      for (size_t i = 0; i < engine->session_->GetInputCount(); ++i) {
        std::string name = engine->session_->GetInputNameAllocated(i, alloc).get();
        engine->inputs_.push_back(DescribeTypeInfo(name, engine->session_->GetInputTypeInfo(i)));
      }
      for (size_t i = 0; i < engine->session_->GetOutputCount(); ++i) {
        std::string name = engine->session_->GetOutputNameAllocated(i, alloc).get();
        engine->outputs_.push_back(DescribeTypeInfo(name, engine->session_->GetOutputTypeInfo(i)));
      }
    } catch (const Ort::Exception& e) {
      return Status(StatusCode::kFailedPrecondition,
                    "ONNX Runtime (" + backend + ") cannot load '" + path + "': " + e.what() +
                        ". The file may be truncated or not an ONNX model; re-export it "
                        "(egom2p export) or check the download");
    }
    return std::unique_ptr<Engine>(std::move(engine));
  }

  Status Run(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    if (outputs == nullptr) return Status(StatusCode::kInvalidArgument, "outputs is null");
    std::vector<const Tensor*> ordered(inputs_.size(), nullptr);
    for (const Tensor& t : inputs) {
      auto it = std::find_if(inputs_.begin(), inputs_.end(),
                             [&](const TensorInfo& i) { return i.name == t.name; });
      if (it == inputs_.end()) {
        return Status(
            StatusCode::kInvalidArgument,
            "'" + path_ + "' has no input named '" + t.name + "'; its inputs are " + InputNames());
      }
      size_t idx = static_cast<size_t>(it - inputs_.begin());
      if (ordered[idx] != nullptr) {
        return Status(StatusCode::kInvalidArgument, "input '" + t.name + "' given twice");
      }
      if (Status s = CheckTensor(*it, t); !s.ok()) return s;
      ordered[idx] = &t;
    }
    for (size_t i = 0; i < ordered.size(); ++i) {
      if (ordered[i] == nullptr) {
        return Status(StatusCode::kInvalidArgument, "input '" + inputs_[i].name + "' " +
                                                        inputs_[i].ShapeString() + " of '" + path_ +
                                                        "' was not given");
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
    } catch (const Ort::Exception& e) {
      return Status(StatusCode::kInternal,
                    "ONNX Runtime (" + backend_ + ") failed running '" + path_ + "': " + e.what());
    }
    return Status::Ok();
  }

 private:
  OrtEngine() = default;

  std::string InputNames() const {
    std::ostringstream os;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      os << (i ? ", " : "") << inputs_[i].name << " " << inputs_[i].ShapeString();
    }
    return os.str();
  }

  Status CheckTensor(const TensorInfo& info, const Tensor& t) const {
    if (t.dtype != info.dtype) {
      return Status(StatusCode::kInvalidArgument, "input '" + info.name + "' of '" + path_ +
                                                      "' must be " + DTypeName(info.dtype) +
                                                      ", got " + DTypeName(t.dtype));
    }
    bool rank_ok = t.shape.size() == info.shape.size();
    for (size_t d = 0; rank_ok && d < t.shape.size(); ++d) {
      if (t.shape[d] < 0 || (info.shape[d] >= 0 && info.shape[d] != t.shape[d])) rank_ok = false;
    }
    if (!rank_ok) {
      return Status(StatusCode::kInvalidArgument, "input '" + info.name + "' of '" + path_ +
                                                      "' must have shape " + info.ShapeString() +
                                                      ", got " + ShapeToString(t.shape));
    }
    if (t.data.size() != t.NumBytes()) {
      return Status(StatusCode::kInvalidArgument,
                    "input '" + info.name + "' holds " + std::to_string(t.data.size()) +
                        " bytes but its shape needs " + std::to_string(t.NumBytes()));
    }
    return Status::Ok();
  }

  std::string path_;
  std::string backend_;
  std::unique_ptr<Ort::Session> session_;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
};

}  // namespace

Result<std::unique_ptr<Engine>> CreateOrtEngine(const std::string& onnx_path,
                                                const EngineOptions& options) {
  return OrtEngine::Create(onnx_path, options, "onnxruntime-cpu", nullptr);
}

Result<std::unique_ptr<Engine>> CreateOrtEngineWith(
    const std::string& onnx_path, const EngineOptions& options, const std::string& backend,
    const std::function<void(Ort::SessionOptions*)>& configure) {
  return OrtEngine::Create(onnx_path, options, backend, configure);
}

std::string OrtHeadersVersion() { return EGOM2P_ORT_HEADERS_VERSION; }

std::string OrtLibraryVersion() { return OrtGetApiBase()->GetVersionString(); }

}  // namespace egom2p
