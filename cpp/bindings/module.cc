// pybind11 bindings of the C++ runtime (the only file that includes pybind11). Converts numpy
// arrays, releases the GIL around compute, and turns a failing Status into a Python exception.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <string>

#include "egom2p/build_info.h"
#include "egom2p/engine.h"

namespace py = pybind11;
void BindBuildingBlocks(pybind11::module_& m);  // bind_building_blocks.cc
void BindFrameBus(pybind11::module_& m);        // bind_frame_bus.cc
void BindRuntime(pybind11::module_& m);         // bind_runtime.cc
using egom2p::DType;
using egom2p::Status;
using egom2p::StatusCode;

namespace {

[[noreturn]] void Raise(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      throw py::value_error(s.message());  // re-raised as FileNotFoundError in Python
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition: throw py::value_error(s.message());
    default: throw std::runtime_error(s.ToString());
  }
}

DType DTypeFromNumpy(const py::dtype& dt, const std::string& name) {
  if (dt.is(py::dtype::of<float>())) return DType::kFloat32;
  if (dt.is(py::dtype::of<int64_t>())) return DType::kInt64;
  if (dt.is(py::dtype::of<int32_t>())) return DType::kInt32;
  if (dt.is(py::dtype::of<uint8_t>())) return DType::kUInt8;
  if (dt.is(py::dtype::of<bool>())) return DType::kBool;
  if (dt.kind() == 'f' && dt.itemsize() == 2) return DType::kFloat16;
  throw py::value_error("input '" + name + "': dtype " + std::string(py::str(dt)) +
                        " is not supported (use float32, float16, int64, int32, uint8 or bool)");
}

py::dtype NumpyFromDType(DType t) {
  switch (t) {
    case DType::kFloat32: return py::dtype::of<float>();
    case DType::kInt64: return py::dtype::of<int64_t>();
    case DType::kInt32: return py::dtype::of<int32_t>();
    case DType::kUInt8: return py::dtype::of<uint8_t>();
    case DType::kBool: return py::dtype::of<bool>();
    case DType::kFloat16: return py::dtype("float16");
    default: throw std::runtime_error("output has an unsupported dtype");
  }
}

egom2p::Tensor TensorFromNumpy(const std::string& name, const py::array& arr) {
  py::array c = py::array::ensure(arr, py::array::c_style);
  if (!c) throw py::value_error("input '" + name + "' is not an array");
  egom2p::Tensor t;
  t.name = name;
  t.dtype = DTypeFromNumpy(c.dtype(), name);
  for (py::ssize_t d = 0; d < c.ndim(); ++d) t.shape.push_back(c.shape(d));
  t.data.resize(static_cast<size_t>(c.nbytes()));
  if (c.nbytes() > 0) std::memcpy(t.data.data(), c.data(), static_cast<size_t>(c.nbytes()));
  return t;
}

py::array NumpyFromTensor(const egom2p::Tensor& t) {
  std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
  py::array out(NumpyFromDType(t.dtype), shape);
  if (!t.data.empty()) std::memcpy(out.mutable_data(), t.data.data(), t.data.size());
  return out;
}

py::dict InfoToDict(const egom2p::TensorInfo& info) {
  py::dict d;
  d["name"] = info.name;
  d["dtype"] = egom2p::DTypeName(info.dtype);
  py::list shape;
  for (size_t i = 0; i < info.shape.size(); ++i) {
    if (info.shape[i] < 0) {
      shape.append(info.dim_names[i].empty() ? py::object(py::none())
                                             : py::object(py::str(info.dim_names[i])));
    } else {
      shape.append(info.shape[i]);
    }
  }
  d["shape"] = shape;
  return d;
}

class PyEngine {
 public:
  PyEngine(const std::string& path, int threads, const std::string& graph_optimization) {
    egom2p::EngineOptions opts;
    opts.intra_op_threads = threads;
    opts.graph_optimization = graph_optimization;
    auto r = egom2p::CreateOrtEngine(path, opts);
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kNotFound) {
        PyErr_SetString(PyExc_FileNotFoundError, r.status().message().c_str());
        throw py::error_already_set();
      }
      Raise(r.status());
    }
    engine_ = std::move(r.value());
  }

  py::list Inputs() const {
    py::list l;
    for (const auto& i : engine_->inputs()) l.append(InfoToDict(i));
    return l;
  }
  py::list Outputs() const {
    py::list l;
    for (const auto& o : engine_->outputs()) l.append(InfoToDict(o));
    return l;
  }

  py::dict Run(const py::dict& feeds) {
    std::vector<egom2p::Tensor> inputs;
    for (auto item : feeds) {
      std::string name = py::str(item.first);
      inputs.push_back(TensorFromNumpy(name, py::array::ensure(item.second)));
    }
    std::vector<egom2p::Tensor> outputs;
    Status s;
    {
      py::gil_scoped_release release;
      s = engine_->Run(inputs, &outputs);
    }
    if (!s.ok()) Raise(s);
    py::dict result;
    for (const auto& t : outputs) result[py::str(t.name)] = NumpyFromTensor(t);
    return result;
  }

  std::string Path() const { return engine_->path(); }
  std::string Backend() const { return engine_->backend(); }

 private:
  std::unique_ptr<egom2p::Engine> engine_;
};

}  // namespace

PYBIND11_MODULE(_runtime, m) {
  m.doc() = "EgoM2P edge C++ runtime (engines over ONNX Runtime; TensorRT where built)";
  BindBuildingBlocks(m);
  BindFrameBus(m);
  BindRuntime(m);

  py::class_<PyEngine>(m, "Engine", "One exported stage run by the C++ runtime.")
      .def(py::init<const std::string&, int, const std::string&>(), py::arg("path"),
           py::arg("threads") = 0, py::arg("graph_optimization") = "all")
      .def_property_readonly("inputs", &PyEngine::Inputs,
                             "Inputs as dicts {name, dtype, shape}; dynamic dims are names/None.")
      .def_property_readonly("outputs", &PyEngine::Outputs)
      .def_property_readonly("path", &PyEngine::Path)
      .def_property_readonly("backend", &PyEngine::Backend)
      .def("run", &PyEngine::Run, py::arg("feeds"),
           "Run with {input name: numpy array}; returns {output name: numpy array}.");

  m.def("build_info", []() {
    egom2p::BuildInfo info = egom2p::GetBuildInfo();
    py::dict d;
    d["onnxruntime_headers_version"] = info.onnxruntime_headers_version;
    d["onnxruntime_library_version"] = info.onnxruntime_library_version;
    d["tensorrt"] = info.tensorrt;
    d["zeromq"] = info.zeromq;
    d["compiler"] = info.compiler;
    d["build_type"] = info.build_type;
    return d;
  });
}
