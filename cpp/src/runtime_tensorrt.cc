// The native TensorRT backend: a bundle's serialized engines (egom2p build-engines) behind the
// Engine interface, run with TensorRT 10 (IRuntime::deserializeCudaEngine, IExecutionContext::
// setInputShape / setTensorAddress / enqueueV3) on one CUDA stream with device buffers. Compiled
// only with EGOM2P_WITH_TENSORRT (cmake/optional_deps.cmake finds NvInfer.h, libnvinfer and the
// CUDA runtime); elsewhere the functions report Unavailable. Record selection mirrors
// export/tensorrt_runtime.py (same TensorRT version and GPU name).
#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

#include "egom2p/backends.h"

#ifdef EGOM2P_WITH_TENSORRT
#include <NvInfer.h>
#include <cuda_runtime_api.h>

#include <cstring>
#endif

namespace egom2p {
namespace {

// "10.3.0.30" -> "10.3.0": the part both sides of a version comparison have.
std::string MajorMinorPatch(const std::string& v) {
  std::string out;
  int dots = 0;
  for (char c : v) {
    if (c == '.' && ++dots == 3) break;
    out += c;
  }
  return out;
}

}  // namespace

Result<const EngineRecord*> SelectEngineRecord(const BundleManifest& manifest,
                                               const std::string& stage,
                                               const TensorRtDevice& device) {
  std::string built;
  const EngineRecord* any = nullptr;
  for (const EngineRecord& r : manifest.engines) {
    if (r.stage != stage) continue;
    any = &r;
    if (MajorMinorPatch(r.tensorrt_version) == MajorMinorPatch(device.tensorrt_version) &&
        r.gpu_name == device.gpu_name) {
      return &r;
    }
    built += (built.empty() ? "" : ", ") + ("TensorRT " + r.tensorrt_version + " on " + r.gpu_name);
  }
  if (any == nullptr) {
    return Status(StatusCode::kUnavailable,
                  "bundle " + manifest.root + " has no TensorRT engine for " + stage +
                      "; run `egom2p build-engines " + manifest.root + "` on this machine");
  }
  return Status(StatusCode::kUnavailable,
                "the engines of " + stage + " were built for [" + built + "], not TensorRT " +
                    device.tensorrt_version + " on " + device.gpu_name +
                    "; run `egom2p build-engines " + manifest.root + "` here");
}

#ifndef EGOM2P_WITH_TENSORRT

bool TensorRtBuilt() { return false; }

Result<TensorRtDevice> ProbeTensorRt(int) {
  return Status(StatusCode::kUnavailable,
                "backend 'tensorrt' is not available: this build has no TensorRT (NvInfer.h, "
                "libnvinfer or the "
                "CUDA runtime were not found at build time); build on JetPack or set "
                "TENSORRT_ROOT, or use backend 'onnxruntime' with providers ('tensorrt', 'cuda')");
}

Result<std::unique_ptr<Engine>> CreateTensorRtEngine(const std::string&, const StageSpec&, int) {
  return ProbeTensorRt(0).status();
}

#else  // EGOM2P_WITH_TENSORRT

bool TensorRtBuilt() { return true; }

namespace {

class Logger final : public nvinfer1::ILogger {
 public:
  void log(Severity severity, const char* msg) noexcept override {
    if (severity <= Severity::kWARNING) {
      std::lock_guard<std::mutex> lock(mu_);
      last_ = msg;
    }
  }
  std::string last() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

 private:
  mutable std::mutex mu_;
  std::string last_;
};

Status CudaStatus(cudaError_t e, const std::string& what) {
  if (e == cudaSuccess) return Status::Ok();
  return Status(StatusCode::kInternal, what + ": " + cudaGetErrorString(e));
}

size_t TrtSize(nvinfer1::DataType t) {
  switch (t) {
    case nvinfer1::DataType::kFLOAT: return 4;
    case nvinfer1::DataType::kHALF: return 2;
    case nvinfer1::DataType::kINT32: return 4;
    case nvinfer1::DataType::kINT64: return 8;
    case nvinfer1::DataType::kINT8: return 1;
    case nvinfer1::DataType::kUINT8: return 1;
    case nvinfer1::DataType::kBOOL: return 1;
    default: return 0;
  }
}

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff)
    return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0));
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  if (exp <= 0) {
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const uint32_t shift = static_cast<uint32_t>(14 - exp);
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --exp;
      }
      x = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

// Host bytes of `t` in the engine's dtype (int64 <-> int32, float32 <-> float16, bool = uint8).
Status ToEngine(const Tensor& t, nvinfer1::DataType want, std::vector<uint8_t>* out) {
  const int64_t n = t.NumElements();
  out->resize(static_cast<size_t>(n) * TrtSize(want));
  if (t.dtype == DType::kInt64 && want == nvinfer1::DataType::kINT32) {
    for (int64_t i = 0; i < n; ++i) {
      const int32_t v = static_cast<int32_t>(t.Data<int64_t>()[i]);
      std::memcpy(out->data() + 4 * i, &v, 4);
    }
  } else if (t.dtype == DType::kFloat32 && want == nvinfer1::DataType::kHALF) {
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t v = FloatToHalf(t.Data<float>()[i]);
      std::memcpy(out->data() + 2 * i, &v, 2);
    }
  } else if (out->size() == t.data.size()) {
    std::memcpy(out->data(), t.data.data(), out->size());
  } else {
    return Status(StatusCode::kInternal, "input '" + t.name + "' is " + DTypeName(t.dtype) +
                                             ", which this engine's tensor type cannot take");
  }
  return Status::Ok();
}

// The engine's output bytes as the manifest's dtype.
Status FromEngine(const std::vector<uint8_t>& raw, nvinfer1::DataType have, Tensor* t) {
  const int64_t n = t->NumElements();
  t->data.resize(t->NumBytes());
  if (t->dtype == DType::kInt64 && have == nvinfer1::DataType::kINT32) {
    for (int64_t i = 0; i < n; ++i) {
      int32_t v;
      std::memcpy(&v, raw.data() + 4 * i, 4);
      t->Data<int64_t>()[i] = v;
    }
  } else if (t->dtype == DType::kFloat32 && have == nvinfer1::DataType::kHALF) {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t v;
      std::memcpy(&v, raw.data() + 2 * i, 2);
      t->Data<float>()[i] = HalfToFloat(v);
    }
  } else if (raw.size() == t->data.size()) {
    std::memcpy(t->data.data(), raw.data(), raw.size());
  } else {
    return Status(StatusCode::kInternal, "output '" + t->name + "' has an unexpected type");
  }
  return Status::Ok();
}

struct DeviceBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;
};

class TrtEngine final : public Engine {
 public:
  ~TrtEngine() override {
    for (auto& [name, b] : buffers_) cudaFree(b.ptr);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }
  const std::string& path() const override { return path_; }
  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }
  std::string backend() const override { return "tensorrt"; }

  static Result<std::unique_ptr<Engine>> Create(const std::string& path, const StageSpec& stage,
                                                int device_id) {
    std::ifstream f(path, std::ios::binary);
    if (!f.good()) {
      return Status(StatusCode::kNotFound, "TensorRT engine '" + path + "' does not exist");
    }
    std::vector<char> blob((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto e = std::unique_ptr<TrtEngine>(new TrtEngine());
    e->path_ = path;
    e->device_ = device_id;
    if (Status s = CudaStatus(cudaSetDevice(device_id), "cudaSetDevice"); !s.ok()) return s;
    e->runtime_.reset(nvinfer1::createInferRuntime(e->logger_));
    if (!e->runtime_) return Status(StatusCode::kInternal, "TensorRT: createInferRuntime failed");
    e->engine_.reset(e->runtime_->deserializeCudaEngine(blob.data(), blob.size()));
    if (!e->engine_) {
      return Status(StatusCode::kFailedPrecondition,
                    "TensorRT cannot deserialize '" + path + "' (" + e->logger_.last() +
                        "); it was built for another TensorRT version or GPU: run egom2p "
                        "build-engines on this machine");
    }
    e->context_.reset(e->engine_->createExecutionContext());
    if (!e->context_) {
      return Status(StatusCode::kInternal, "TensorRT: createExecutionContext failed for " + path);
    }
    if (Status s = CudaStatus(cudaStreamCreate(&e->stream_), "cudaStreamCreate"); !s.ok()) {
      return s;
    }
    std::vector<std::string> names;
    for (int32_t i = 0; i < e->engine_->getNbIOTensors(); ++i) {
      names.emplace_back(e->engine_->getIOTensorName(i));
    }
    auto describe = [&](const std::vector<TensorSpec>& specs, std::vector<TensorInfo>* out) {
      for (const TensorSpec& t : specs) {
        if (std::find(names.begin(), names.end(), t.name) == names.end()) {
          return Status(StatusCode::kFailedPrecondition,
                        "TensorRT engine '" + path + "' has no tensor '" + t.name +
                            "' (the manifest's); rebuild it with egom2p build-engines");
        }
        out->push_back(TensorInfo{t.name, t.dtype, t.shape, t.dim_names});
      }
      return Status::Ok();
    };
    if (Status s = describe(stage.inputs, &e->inputs_); !s.ok()) return s;
    if (Status s = describe(stage.outputs, &e->outputs_); !s.ok()) return s;
    return std::unique_ptr<Engine>(std::move(e));
  }

  Status Run(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    if (outputs == nullptr) return Status(StatusCode::kInvalidArgument, "outputs is null");
    std::lock_guard<std::mutex> lock(mu_);  // one execution context: one call at a time
    if (Status s = CudaStatus(cudaSetDevice(device_), "cudaSetDevice"); !s.ok()) return s;
    if (inputs.size() != inputs_.size()) {
      return Status(StatusCode::kInvalidArgument,
                    "'" + path_ + "' takes " + std::to_string(inputs_.size()) + " inputs");
    }
    std::vector<std::vector<uint8_t>> staged(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor& t = inputs[i];
      const char* name = t.name.c_str();
      const nvinfer1::DataType dt = engine_->getTensorDataType(name);
      if (Status s = ToEngine(t, dt, &staged[i]); !s.ok()) return s;
      nvinfer1::Dims dims;
      dims.nbDims = static_cast<int32_t>(t.shape.size());
      for (size_t d = 0; d < t.shape.size(); ++d) dims.d[d] = t.shape[d];
      if (!context_->setInputShape(name, dims)) {
        return Status(StatusCode::kInvalidArgument,
                      "'" + path_ + "': input '" + t.name + "' of shape " + ShapeToString(t.shape) +
                          " is outside the engine's optimisation profile; rebuild with larger "
                          "bounds (egom2p build-engines --max-batch / --max-input-tokens)");
      }
      Result<void*> ptr = Buffer(t.name, staged[i].size());
      if (!ptr.ok()) return ptr.status();
      if (Status s = CudaStatus(cudaMemcpyAsync(ptr.value(), staged[i].data(), staged[i].size(),
                                                cudaMemcpyHostToDevice, stream_),
                                "cudaMemcpyAsync (input)");
          !s.ok()) {
        return s;
      }
      context_->setTensorAddress(name, ptr.value());
    }
    std::vector<Tensor> outs;
    std::vector<std::vector<uint8_t>> raw(outputs_.size());
    for (size_t i = 0; i < outputs_.size(); ++i) {
      const char* name = outputs_[i].name.c_str();
      const nvinfer1::Dims dims = context_->getTensorShape(name);
      Tensor t;
      t.name = outputs_[i].name;
      t.dtype = outputs_[i].dtype;
      for (int32_t d = 0; d < dims.nbDims; ++d) {
        if (dims.d[d] < 0) {
          return Status(StatusCode::kInternal,
                        "'" + path_ + "': output '" + t.name + "' has an unresolved dimension");
        }
        t.shape.push_back(dims.d[d]);
      }
      raw[i].resize(static_cast<size_t>(t.NumElements()) *
                    TrtSize(engine_->getTensorDataType(name)));
      Result<void*> ptr = Buffer(t.name, raw[i].size());
      if (!ptr.ok()) return ptr.status();
      context_->setTensorAddress(name, ptr.value());
      outs.push_back(std::move(t));
    }
    if (!context_->enqueueV3(stream_)) {
      return Status(StatusCode::kInternal,
                    "TensorRT failed running '" + path_ + "': " + logger_.last());
    }
    for (size_t i = 0; i < outs.size(); ++i) {
      if (Status s = CudaStatus(cudaMemcpyAsync(raw[i].data(), buffers_[outs[i].name].ptr,
                                                raw[i].size(), cudaMemcpyDeviceToHost, stream_),
                                "cudaMemcpyAsync (output)");
          !s.ok()) {
        return s;
      }
    }
    if (Status s = CudaStatus(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); !s.ok()) {
      return s;
    }
    for (size_t i = 0; i < outs.size(); ++i) {
      const nvinfer1::DataType dt = engine_->getTensorDataType(outs[i].name.c_str());
      if (Status s = FromEngine(raw[i], dt, &outs[i]); !s.ok()) return s;
    }
    *outputs = std::move(outs);
    return Status::Ok();
  }

 private:
  TrtEngine() = default;

  // A device buffer of at least `bytes` for tensor `name` (grown, never shrunk).
  Result<void*> Buffer(const std::string& name, size_t bytes) {
    DeviceBuffer& b = buffers_[name];
    if (b.bytes < bytes || b.ptr == nullptr) {
      cudaFree(b.ptr);
      b.ptr = nullptr;
      if (Status s = CudaStatus(cudaMalloc(&b.ptr, std::max<size_t>(bytes, 1)), "cudaMalloc");
          !s.ok()) {
        b.bytes = 0;
        return s;
      }
      b.bytes = std::max<size_t>(bytes, 1);
    }
    return b.ptr;
  }

  std::string path_;
  int device_ = 0;
  Logger logger_;
  std::unique_ptr<nvinfer1::IRuntime> runtime_;
  std::unique_ptr<nvinfer1::ICudaEngine> engine_;
  std::unique_ptr<nvinfer1::IExecutionContext> context_;
  cudaStream_t stream_ = nullptr;
  std::map<std::string, DeviceBuffer> buffers_;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
  std::mutex mu_;
};

}  // namespace

Result<TensorRtDevice> ProbeTensorRt(int device_id) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || device_id < 0 || device_id >= count) {
    return Status(StatusCode::kUnavailable, "no CUDA device " + std::to_string(device_id) +
                                                " (found " + std::to_string(count) + ")");
  }
  cudaDeviceProp prop;
  if (Status s = CudaStatus(cudaGetDeviceProperties(&prop, device_id), "cudaGetDeviceProperties");
      !s.ok()) {
    return s;
  }
  const int32_t v = getInferLibVersion();  // TensorRT 10: major * 10000 + minor * 100 + patch
  TensorRtDevice d;
  d.tensorrt_version = std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." +
                       std::to_string(v % 100);
  d.gpu_name = prop.name;
  d.compute_capability = std::to_string(prop.major) + "." + std::to_string(prop.minor);
  return d;
}

Result<std::unique_ptr<Engine>> CreateTensorRtEngine(const std::string& engine_path,
                                                     const StageSpec& stage, int device_id) {
  return TrtEngine::Create(engine_path, stage, device_id);
}

#endif  // EGOM2P_WITH_TENSORRT

}  // namespace egom2p
