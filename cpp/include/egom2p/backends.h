// GPU backends behind the Engine interface (egom2p/engine.h), chosen by RuntimeOptions:
// - ONNX Runtime with execution providers ("tensorrt", "cuda", "cpu", in order of preference).
//   It compiles everywhere against the ONNX Runtime C API; the GPU providers run where a GPU
//   build of ONNX Runtime is loaded (onnxruntime-gpu, JetPack's). A provider this library lacks
//   is an Unavailable status naming what it has, unless fallback is allowed.
// - The native TensorRT backend: the engines `egom2p build-engines` wrote into the bundle, run
//   with TensorRT 10's IExecutionContext::enqueueV3 on a CUDA stream with device buffers. Built
//   only where NvInfer.h, libnvinfer and CUDA exist (EGOM2P_WITH_TENSORRT); elsewhere
//   CreateTensorRtEngine returns Unavailable.
//
// Basic usage (Runtime::Load does this for every stage):
//   egom2p::ProviderOptions p;
//   p.providers = {"tensorrt", "cuda", "cpu"};
//   p.allow_fallback = true;
//   auto engine = egom2p::CreateOrtProviderEngine("stage.onnx", egom2p::EngineOptions{}, p);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "egom2p/bundle.h"
#include "egom2p/engine.h"
#include "egom2p/status.h"

namespace egom2p {

inline constexpr const char* kProviderNames[] = {"tensorrt", "cuda", "cpu"};

struct ProviderOptions {
  std::vector<std::string> providers = {"cpu"};  // short names, in order of preference
  bool allow_fallback = false;
  std::string engine_cache_dir;  // "" = DefaultEngineCacheDir()
  int device_id = 0;
  std::string precision = "fp32";  // the graph's: fp16 / int8 enable those TensorRT kernels
};

// ONNX Runtime's name of a provider ("tensorrt" -> "TensorrtExecutionProvider"); "" if unknown.
std::string OrtProviderName(const std::string& short_name);
// The providers compiled into the loaded ONNX Runtime library.
std::vector<std::string> OrtAvailableProviders();
// $EGOM2P_ENGINE_CACHE/ort-tensorrt, else $HOME/.cache/egom2p-edge/ort-tensorrt.
std::string DefaultEngineCacheDir();
// The providers that will run (short names, in order). InvalidArgument for an unknown or
// repeated name; Unavailable for one `available` lacks, unless allow_fallback (then skipped; the
// CPU when none is left).
Result<std::vector<std::string>> ResolveProviders(const ProviderOptions& options,
                                                  const std::vector<std::string>& available);
// An ONNX Runtime engine whose session runs on `providers` (already resolved).
Result<std::unique_ptr<Engine>> CreateOrtProviderEngine(const std::string& onnx_path,
                                                        const EngineOptions& options,
                                                        const ProviderOptions& providers);

// ----- native TensorRT -----------------------------------------------------------------------

bool TensorRtBuilt();  // EGOM2P_WITH_TENSORRT

// What the engines of a bundle must have been built for.
struct TensorRtDevice {
  std::string tensorrt_version;  // "10.3.0"
  std::string gpu_name;          // cudaDeviceProp::name, e.g. "Orin"
  std::string compute_capability;
};
Result<TensorRtDevice> ProbeTensorRt(int device_id);

// The record of `stage` built for `device` (Unavailable naming what exists and what to run).
Result<const EngineRecord*> SelectEngineRecord(const BundleManifest& manifest,
                                               const std::string& stage,
                                               const TensorRtDevice& device);

// A serialized engine of `stage` (its inputs and outputs as the manifest describes them;
// int64 / int32 and bool / uint8 are converted where the engine's tensors differ).
Result<std::unique_ptr<Engine>> CreateTensorRtEngine(const std::string& engine_path,
                                                     const StageSpec& stage, int device_id);

}  // namespace egom2p
