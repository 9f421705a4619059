// Conversions of the runtime's results to Python objects (internal to the bindings): window
// predictions to dicts, timers to dicts, tracks to dicts of numpy arrays, statuses to exceptions.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "egom2p/runtime.h"

namespace egom2p_py {

namespace py = pybind11;

[[noreturn]] inline void RaiseStatus(const egom2p::Status& s) {
  switch (s.code()) {
    case egom2p::StatusCode::kNotFound:
      PyErr_SetString(PyExc_FileNotFoundError, s.message().c_str());
      throw py::error_already_set();
    case egom2p::StatusCode::kInvalidArgument:
    case egom2p::StatusCode::kFailedPrecondition:
    case egom2p::StatusCode::kUnavailable: throw py::value_error(s.message());
    default: throw std::runtime_error(s.ToString());
  }
}

template <typename T>
py::array_t<T> ToArray(const std::vector<T>& v, std::vector<py::ssize_t> shape) {
  py::array_t<T> a(shape);
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

inline py::dict PredictionToDict(const egom2p::WindowPrediction& p) {
  py::dict d;
  d["window_index"] = p.window_index;
  d["timestamp_ns"] = p.timestamp_ns;
  d["start_timestamp_ns"] = p.start_timestamp_ns;
  d["missing_frames"] = p.missing_frames;
  d["image_size"] = py::make_tuple(p.image_height, p.image_width);
  d["latency_ms"] = static_cast<double>(p.latency_us) / 1e3;
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

inline py::list PredictionsToList(const std::vector<egom2p::WindowPrediction>& predictions) {
  py::list out;
  for (const auto& p : predictions) out.append(PredictionToDict(p));
  return out;
}

inline py::dict TimerToDict(const egom2p::StageTimer& t) {
  py::dict d;
  d["count"] = t.count;
  d["total_us"] = t.total_us;
  d["max_us"] = t.max_us;
  d["last_us"] = t.last_us;
  d["p50_us"] = t.Percentile(50);
  d["p90_us"] = t.Percentile(90);
  d["p99_us"] = t.Percentile(99);
  return d;
}

// Stages in window order, then step_0, step_1, ..., then latency (dicts keep insertion order).
inline py::dict TimingsToDict(const egom2p::StreamTimings& t) {
  py::dict d;
  d["preprocess"] = TimerToDict(t.preprocess);
  d["tokenize"] = TimerToDict(t.tokenize);
  d["encode"] = TimerToDict(t.encode);
  d["decode"] = TimerToDict(t.decode);
  d["sample"] = TimerToDict(t.sample);
  d["detokenize"] = TimerToDict(t.detokenize);
  d["window"] = TimerToDict(t.window);
  for (size_t s = 0; s < t.steps.size(); ++s) {
    d[py::str("step_" + std::to_string(s))] = TimerToDict(t.steps[s]);
  }
  d["latency"] = TimerToDict(t.latency);
  return d;
}

inline py::array_t<bool> ToBool(const std::vector<uint8_t>& v) {
  py::array_t<bool> a(static_cast<py::ssize_t>(v.size()));
  for (size_t i = 0; i < v.size(); ++i) a.mutable_data()[i] = v[i] != 0;
  return a;
}

inline py::dict TrajectoryToDict(const egom2p::Trajectory& t) {
  const auto n = static_cast<py::ssize_t>(t.size());
  py::dict d;
  d["timestamp_ns"] = ToArray(t.timestamp_ns, {n});
  d["T_world_camera"] = ToArray(t.T_world_camera, {n, 4, 4});
  d["confidence"] = ToArray(t.confidence, {n});
  d["final"] = ToBool(t.final);
  return d;
}

inline py::dict GazeTrackToDict(const egom2p::GazeTrack& g) {
  const auto n = static_cast<py::ssize_t>(g.size());
  py::dict d;
  d["timestamp_ns"] = ToArray(g.timestamp_ns, {n});
  d["gaze_xy_norm"] = ToArray(g.gaze_xy_norm, {n, 2});
  d["gaze_xy_px"] = ToArray(g.gaze_xy_px, {n, 2});
  d["confidence"] = ToArray(g.confidence, {n});
  d["final"] = ToBool(g.final);
  return d;
}

inline py::dict LiveStatsToDict(const egom2p::LiveStats& s) {
  py::dict d;
  d["queue_windows"] = s.queue_windows;
  d["windows_submitted"] = s.windows_submitted;
  d["windows_dropped"] = s.windows_dropped;
  d["windows_done"] = s.windows_done;
  d["windows_waiting"] = s.windows_waiting;
  d["latency_max_ms"] = static_cast<double>(s.latency.max_us) / 1e3;
  for (int q : {50, 90, 99}) {
    d[py::str("latency_p" + std::to_string(q) + "_ms")] =
        static_cast<double>(s.latency.Percentile(q)) / 1e3;
  }
  return d;
}

}  // namespace egom2p_py
