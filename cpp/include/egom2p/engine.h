// Engine: one exported stage (an ONNX file or a TensorRT engine) that maps named input tensors
// to named output tensors. Backends implement this interface; CreateOrtEngine is always built.
//
// Basic usage:
//   egom2p::EngineOptions opts;
//   opts.intra_op_threads = 2;
//   auto engine = egom2p::CreateOrtEngine("stage.onnx", opts);
//   if (!engine.ok()) { std::cerr << engine.status().ToString(); return 1; }
//   std::vector<egom2p::Tensor> outputs;
//   egom2p::Status s = engine.value()->Run(inputs, &outputs);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "egom2p/status.h"
#include "egom2p/tensor.h"

namespace egom2p {

struct EngineOptions {
  int intra_op_threads = 0;  // 0 = the backend's default
  int inter_op_threads = 1;
  // "all" (default), "extended", "basic" or "disabled": ONNX Runtime graph optimisation level.
  std::string graph_optimization = "all";
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual const std::string& path() const = 0;
  virtual const std::vector<TensorInfo>& inputs() const = 0;
  virtual const std::vector<TensorInfo>& outputs() const = 0;
  // Runs the stage. `inputs` must name every engine input exactly once, with its dtype and a
  // shape that matches every static dimension. On success `outputs` holds every engine output in
  // the order of outputs().
  virtual Status Run(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) = 0;
  virtual std::string backend() const = 0;
};

// An engine over ONNX Runtime on the CPU.
Result<std::unique_ptr<Engine>> CreateOrtEngine(const std::string& onnx_path,
                                                const EngineOptions& options);

// Versions of the ONNX Runtime this library was compiled against (headers) and runs with.
std::string OrtHeadersVersion();
std::string OrtLibraryVersion();

}  // namespace egom2p
