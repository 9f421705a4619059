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

#include "egom2p/backends.h"
#include "egom2p/bundle.h"
#include "egom2p/bundle_names.h"
#include "egom2p/runtime.h"
#include "runtime_convert.h"

namespace py = pybind11;

void BindDecoding(py::module_& m);  // bind_decoding.cc

namespace {

using egom2p::Status;
using egom2p::StatusCode;
using egom2p_py::PredictionsToList;
using egom2p_py::RaiseStatus;

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

// One stream of a runtime: synchronous (egom2p::Stream) or live (egom2p::LiveStream).
class PyStream {
 public:
  explicit PyStream(std::unique_ptr<egom2p::Stream> stream) : sync_(std::move(stream)) {}
  explicit PyStream(std::unique_ptr<egom2p::LiveStream> live) : live_(std::move(live)) {}

  py::list Push(const py::handle& rgb, int64_t timestamp_ns) {
    py::array frame = CheckRgb(rgb);
    const auto* data = static_cast<const uint8_t*>(frame.data());
    const int h = static_cast<int>(frame.shape(0)), w = static_cast<int>(frame.shape(1));
    std::vector<egom2p::WindowPrediction> out;
    Status s;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);  // one stream, one pusher at a time
      s = live_ ? live_->Push(data, h, w, timestamp_ns, &out)
                : sync_->Push(data, h, w, timestamp_ns, &out);
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
      s = live_ ? live_->Flush(&out) : sync_->Flush(&out);
    }
    if (!s.ok()) RaiseStatus(s);
    return PredictionsToList(out);
  }

  // The getters take no stream lock: the C++ stream guards its timers and tracks itself.
  py::dict Timings() const { return egom2p_py::TimingsToDict(stream().timings()); }

  py::dict Trajectory(int64_t since_ns) const {
    egom2p::Trajectory t;
    {
      py::gil_scoped_release release;
      stream().GetTrajectory(since_ns, &t);
    }
    return egom2p_py::TrajectoryToDict(t);
  }

  py::dict GazeTrack(int64_t since_ns) const {
    egom2p::GazeTrack g;
    {
      py::gil_scoped_release release;
      stream().GetGazeTrack(since_ns, &g);
    }
    return egom2p_py::GazeTrackToDict(g);
  }

  py::dict LiveStats() const {
    if (!live_) throw py::value_error("live_stats: this stream is not live (realtime=False)");
    return egom2p_py::LiveStatsToDict(live_->stats());
  }

  std::vector<std::string> Targets() const { return stream().targets(); }
  std::string Mode() const { return stream().mode(); }
  bool Realtime() const { return live_ != nullptr; }

 private:
  const egom2p::Stream& stream() const { return live_ ? live_->stream() : *sync_; }

  std::unique_ptr<egom2p::Stream> sync_;
  std::unique_ptr<egom2p::LiveStream> live_;
  std::mutex mu_;
};

class PyRuntime {
 public:
  PyRuntime(const std::string& bundle_dir, int threads, const std::string& backend,
            bool check_hashes, const std::vector<std::string>& providers, bool allow_fallback,
            const std::string& engine_cache_dir, int device_id) {
    egom2p::RuntimeOptions options;
    options.threads = threads;
    options.backend = backend;
    options.check_hashes = check_hashes;
    options.providers = providers;
    options.allow_fallback = allow_fallback;
    options.engine_cache_dir = engine_cache_dir;
    options.device_id = device_id;
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
                                   std::optional<double> top_p, bool reuse_condition,
                                   double history_s, bool realtime, int queue_windows) const {
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
    o.reuse_condition = reuse_condition;
    o.history_s = history_s;
    if (realtime) {
      egom2p::LiveOptions live;
      live.queue_windows = queue_windows;
      auto s = runtime_->CreateLiveStream(o, live);
      if (!s.ok()) RaiseStatus(s.status());
      return std::make_unique<PyStream>(std::move(s.value()));
    }
    auto s = runtime_->CreateStream(o);
    if (!s.ok()) RaiseStatus(s.status());
    return std::make_unique<PyStream>(std::move(s.value()));
  }

  std::string Root() const { return runtime_->manifest().root; }
  std::map<std::string, std::string> StageBackends() const { return runtime_->stage_backends(); }

 private:
  std::shared_ptr<const egom2p::Runtime> runtime_;
};

}  // namespace

void BindRuntime(py::module_& m) {
  py::class_<PyStream>(m, "Stream", "One input stream of a Runtime (egom2p/runtime.h).")
      .def("push", &PyStream::Push, py::arg("rgb"), py::arg("timestamp_ns"),
           "Add an (H, W, 3) uint8 frame; returns the completed (live: ready) windows as dicts.")
      .def("flush", &PyStream::Flush, "End of stream: the windows the last frames complete.")
      .def("timings", &PyStream::Timings,
           "Per stage, step and latency: count, total_us, max_us, last_us, p50/p90/p99_us.")
      .def("trajectory", &PyStream::Trajectory, py::arg("since_ns"),
           "The continuous camera trajectory as a dict of arrays.")
      .def("gaze_track", &PyStream::GazeTrack, py::arg("since_ns"),
           "The continuous gaze track as a dict of arrays.")
      .def("live_stats", &PyStream::LiveStats, "Live mode: queue, drops, latency percentiles.")
      .def_property_readonly("targets", &PyStream::Targets)
      .def_property_readonly("mode", &PyStream::Mode)
      .def_property_readonly("realtime", &PyStream::Realtime);

  py::class_<PyRuntime>(m, "Runtime", "A loaded bundle with its engines (egom2p/runtime.h).")
      .def(py::init<const std::string&, int, const std::string&, bool,
                    const std::vector<std::string>&, bool, const std::string&, int>(),
           py::arg("bundle_dir"), py::arg("threads") = 0, py::arg("backend") = "onnxruntime",
           py::arg("check_hashes") = true, py::arg("providers") = std::vector<std::string>{"cpu"},
           py::arg("allow_fallback") = false, py::arg("engine_cache_dir") = "",
           py::arg("device_id") = 0)
      .def("stream", &PyRuntime::Stream, py::arg("targets"), py::arg("hop_frames"), py::arg("seed"),
           py::arg("mode"), py::arg("temperature"), py::arg("steps"), py::arg("steps_per_target"),
           py::arg("guidance_scale"), py::arg("top_p"), py::arg("reuse_condition") = false,
           py::arg("history_s") = 0.0, py::arg("realtime") = false, py::arg("queue_windows") = 2)
      .def_property_readonly("root", &PyRuntime::Root)
      .def_property_readonly("stage_backends", &PyRuntime::StageBackends);

  m.def(
      "available_providers", []() { return egom2p::OrtAvailableProviders(); },
      "The execution providers of the loaded ONNX Runtime library.");
  m.def("tensorrt_built", &egom2p::TensorRtBuilt,
        "Whether this build has the native TensorRT backend.");

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
