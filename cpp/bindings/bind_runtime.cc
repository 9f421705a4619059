// pybind11 bindings of the streaming runtime (Runtime, Stream) and of bundle validation,
// registered by module.cc through BindRuntime; python/egom2p_edge/runtime.py wraps them in the
// public API. Inputs are validated here too (a bad frame is a ValueError, never a crash), the GIL
// is released while C++ computes, and a failing Status becomes a Python exception.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "egom2p/bundle.h"
#include "egom2p/bundle_names.h"
#include "egom2p/runtime.h"

namespace py = pybind11;

void BindDecoding(py::module_& m);  // bind_decoding.cc

namespace {

using egom2p::Status;
using egom2p::StatusCode;

[[noreturn]] void RaiseStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      PyErr_SetString(PyExc_FileNotFoundError, s.message().c_str());
      throw py::error_already_set();
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kUnavailable: throw py::value_error(s.message());
    default: throw std::runtime_error(s.ToString());
  }
}

template <typename T>
py::array_t<T> ToArray(const std::vector<T>& v, std::vector<py::ssize_t> shape) {
  py::array_t<T> a(shape);
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

py::dict PredictionToDict(const egom2p::WindowPrediction& p) {
  py::dict d;
  d["window_index"] = p.window_index;
  d["timestamp_ns"] = p.timestamp_ns;
  d["start_timestamp_ns"] = p.start_timestamp_ns;
  d["missing_frames"] = p.missing_frames;
  py::dict tokens, probs;
  for (const auto& t : p.targets) {
    const auto k = static_cast<py::ssize_t>(t.tokens.size());
    tokens[py::str(t.name)] = ToArray(t.tokens, {k});
    probs[py::str(t.name)] = ToArray(t.token_probs, {k});
  }
  d["tokens"] = tokens;
  d["token_probs"] = probs;
  const py::ssize_t n = p.trajectory_samples;
  d["gaze_xy_norm"] =
      p.gaze_xy_norm.empty() ? py::object(py::none()) : py::object(ToArray(p.gaze_xy_norm, {n, 2}));
  d["T_window_camera"] = p.T_window_camera.empty()
                             ? py::object(py::none())
                             : py::object(ToArray(p.T_window_camera, {n, 4, 4}));
  return d;
}

py::list PredictionsToList(const std::vector<egom2p::WindowPrediction>& predictions) {
  py::list out;
  for (const auto& p : predictions) out.append(PredictionToDict(p));
  return out;
}

py::dict TimerToDict(const egom2p::StageTimer& t) {
  py::dict d;
  d["count"] = t.count;
  d["total_us"] = t.total_us;
  d["max_us"] = t.max_us;
  d["last_us"] = t.last_us;
  return d;
}

std::string DescribeArray(const py::array& a) {
  std::string shape = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) shape += (d ? ", " : "") + std::to_string(a.shape(d));
  if (a.ndim() == 1) shape += ",";
  return "a " + std::string(py::str(a.dtype())) + " array of shape " + shape + ")";
}

// The frame as a C-contiguous (H, W, 3) uint8 array; ValueError naming what was given.
py::array CheckRgb(const py::handle& obj) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::value_error("push: rgb must be a numpy (H, W, 3) uint8 array, got " +
                          std::string(py::str(py::type::of(obj).attr("__name__"))));
  }
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<uint8_t>()) || a.ndim() != 3 || a.shape(2) != 3 ||
      a.shape(0) < 1 || a.shape(1) < 1) {
    throw py::value_error("push: rgb must be an (H, W, 3) uint8 RGB image, got " +
                          DescribeArray(a) +
                          " (convert with np.asarray(img, dtype=np.uint8); grey images need 3 "
                          "channels)");
  }
  if (a.shape(0) > INT32_MAX || a.shape(1) > INT32_MAX)
    throw py::value_error("push: rgb too large");
  return py::array::ensure(a, py::array::c_style);
}

class PyStream {
 public:
  explicit PyStream(std::unique_ptr<egom2p::Stream> stream) : stream_(std::move(stream)) {}

  py::list Push(const py::handle& rgb, int64_t timestamp_ns) {
    py::array frame = CheckRgb(rgb);
    const auto* data = static_cast<const uint8_t*>(frame.data());
    const int h = static_cast<int>(frame.shape(0)), w = static_cast<int>(frame.shape(1));
    std::vector<egom2p::WindowPrediction> out;
    Status s;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);  // one stream, one caller at a time
      s = stream_->Push(data, h, w, timestamp_ns, &out);
    }
    if (!s.ok()) RaiseStatus(s);
    return PredictionsToList(out);
  }

  py::list Flush() {
    std::vector<egom2p::WindowPrediction> out;
    Status s;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      s = stream_->Flush(&out);
    }
    if (!s.ok()) RaiseStatus(s);
    return PredictionsToList(out);
  }

  py::dict Timings() {
    std::lock_guard<std::mutex> lock(mu_);
    const egom2p::StreamTimings& t = stream_->timings();
    py::dict d;
    d["preprocess"] = TimerToDict(t.preprocess);
    d["tokenize"] = TimerToDict(t.tokenize);
    d["encode"] = TimerToDict(t.encode);
    d["decode"] = TimerToDict(t.decode);
    d["sample"] = TimerToDict(t.sample);
    d["detokenize"] = TimerToDict(t.detokenize);
    d["window"] = TimerToDict(t.window);
    return d;
  }

  std::vector<std::string> Targets() const { return stream_->targets(); }
  std::string Mode() const { return stream_->mode(); }

 private:
  std::unique_ptr<egom2p::Stream> stream_;
  std::mutex mu_;
};

class PyRuntime {
 public:
  PyRuntime(const std::string& bundle_dir, int threads, const std::string& backend,
            bool check_hashes) {
    egom2p::RuntimeOptions options;
    options.threads = threads;
    options.backend = backend;
    options.check_hashes = check_hashes;
    egom2p::Result<std::shared_ptr<const egom2p::Runtime>> r = egom2p::Status();
    {
      py::gil_scoped_release release;
      r = egom2p::Runtime::Load(bundle_dir, options);
    }
    if (!r.ok()) RaiseStatus(r.status());
    runtime_ = r.value();
  }

  std::unique_ptr<PyStream> Stream(const std::vector<std::string>& targets, int hop_frames,
                                   uint64_t seed, const std::string& mode,
                                   std::optional<double> temperature, std::optional<int> steps,
                                   const std::map<std::string, int>& steps_per_target,
                                   std::optional<double> guidance_scale,
                                   std::optional<double> top_p) const {
    egom2p::StreamOptions o;
    o.targets = targets;
    o.hop_frames = hop_frames;
    o.seed = seed;
    o.mode = mode;
    o.temperature = temperature;
    o.steps = steps;
    o.steps_per_target = steps_per_target;
    o.guidance_scale = guidance_scale;
    o.top_p = top_p;
    auto s = runtime_->CreateStream(o);
    if (!s.ok()) RaiseStatus(s.status());
    return std::make_unique<PyStream>(std::move(s.value()));
  }

  std::string Root() const { return runtime_->manifest().root; }

 private:
  std::shared_ptr<const egom2p::Runtime> runtime_;
};

}  // namespace

void BindRuntime(py::module_& m) {
  py::class_<PyStream>(m, "Stream", "One input stream of a Runtime (egom2p/runtime.h).")
      .def("push", &PyStream::Push, py::arg("rgb"), py::arg("timestamp_ns"),
           "Add an (H, W, 3) uint8 frame; returns the completed windows as dicts.")
      .def("flush", &PyStream::Flush, "End of stream: the windows the last frames complete.")
      .def("timings", &PyStream::Timings, "Per stage: count, total_us, max_us, last_us.")
      .def_property_readonly("targets", &PyStream::Targets)
      .def_property_readonly("mode", &PyStream::Mode);

  py::class_<PyRuntime>(m, "Runtime", "A loaded bundle with its engines (egom2p/runtime.h).")
      .def(py::init<const std::string&, int, const std::string&, bool>(), py::arg("bundle_dir"),
           py::arg("threads") = 0, py::arg("backend") = "onnxruntime",
           py::arg("check_hashes") = true)
      .def("stream", &PyRuntime::Stream, py::arg("targets"), py::arg("hop_frames"), py::arg("seed"),
           py::arg("mode"), py::arg("temperature"), py::arg("steps"), py::arg("steps_per_target"),
           py::arg("guidance_scale"), py::arg("top_p"))
      .def_property_readonly("root", &PyRuntime::Root);

  m.def(
      "validate_bundle",
      [](const std::string& bundle_dir, bool check_hashes) {
        egom2p::Result<egom2p::BundleManifest> r = egom2p::Status();
        {
          py::gil_scoped_release release;
          r = egom2p::LoadBundle(bundle_dir, check_hashes);
        }
        if (!r.ok()) RaiseStatus(r.status());
        py::dict d;
        std::vector<std::string> stages;
        for (const auto& [name, spec] : r.value().stages) stages.push_back(name);
        d["stages"] = stages;
        d["format_version"] = r.value().format_version;
        return d;
      },
      py::arg("bundle_dir"), py::arg("check_hashes") = true,
      "Read and check a bundle's manifest and files with the C++ reader.");

  m.def(
      "bundle_names", []() { return egom2p::bundle_names::AllBundleNames(); },
      "The bundle name sets of the C++ header (compare with egom2p_edge.bundle.names).");

  BindDecoding(m);
}
