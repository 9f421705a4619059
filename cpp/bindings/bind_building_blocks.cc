// pybind11 bindings of the streaming building blocks (preprocess, resample, safetensors,
// sha256, the portable RNG), registered by module.cc through BindBuildingBlocks. They exist so
// tests can compare the C++ code with its Python twins; inputs are validated and a failing Status
// is raised as a Python exception naming the argument or file.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "egom2p/preprocess.h"
#include "egom2p/resample.h"
#include "egom2p/rng.h"
#include "egom2p/safetensors.h"
#include "egom2p/sha256.h"

namespace py = pybind11;

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

std::string DescribeArray(const py::array& a) {
  std::string shape = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) {
    shape += (d ? ", " : "") + std::to_string(a.shape(d));
  }
  if (a.ndim() == 1) shape += ",";
  return std::string(py::str(a.dtype())) + " array of shape " + shape + ")";
}

// The argument as a C-contiguous numpy array of dtype T with ndim in [min_ndim, max_ndim];
// anything else is a ValueError naming the argument, what was expected and what was given.
template <typename T>
py::array_t<T> CheckArray(const py::handle& obj, const std::string& arg, int min_ndim, int max_ndim,
                          const std::string& expected) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::value_error(arg + ": expected a numpy " + expected + ", got " +
                          std::string(py::str(py::type::of(obj).attr("__name__"))));
  }
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<T>()) || a.ndim() < min_ndim || a.ndim() > max_ndim) {
    throw py::value_error(arg + ": expected a " + expected + ", got a " + DescribeArray(a));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(arg + ": the array is not C-contiguous; pass np.ascontiguousarray(" +
                          arg + ")");
  }
  return py::reinterpret_borrow<py::array_t<T>>(a);
}

// Python's crop_side (None: the largest square) as the C++ argument (0: the largest square).
int CropSide(const std::optional<int>& crop_side) {
  if (!crop_side.has_value()) return 0;
  if (*crop_side < 1) {
    throw py::value_error("crop_side: must be >= 1 or None, got " + std::to_string(*crop_side));
  }
  return *crop_side;
}

egom2p::CropBox CheckedCropBox(int height, int width, const std::optional<int>& crop_side) {
  auto r = egom2p::ComputeCropBox(height, width, CropSide(crop_side));
  if (!r.ok()) RaiseStatus(r.status());
  return r.value();
}

// Crop + resize of an (H, W) or (H, W, C) image; T is uint8 or float32.
template <typename T>
py::array_t<T> CropResize(const py::handle& obj, int size, const std::optional<int>& crop_side,
                          const std::string& expected) {
  py::array_t<T> img = CheckArray<T>(obj, "img", 2, 3, expected);
  const int h = static_cast<int>(img.shape(0));
  const int w = static_cast<int>(img.shape(1));
  const int ch = img.ndim() == 3 ? static_cast<int>(img.shape(2)) : 1;
  auto r = egom2p::CenterCropResizer::Create(h, w, ch, size, CropSide(crop_side));
  if (!r.ok()) RaiseStatus(Status(r.status().code(), "img/size: " + r.status().message()));
  std::vector<py::ssize_t> shape = {size, size};
  if (img.ndim() == 3) shape.push_back(ch);
  py::array_t<T> out(shape);
  Status s;
  {
    py::gil_scoped_release release;
    if constexpr (std::is_same_v<T, uint8_t>) {
      s = r.value().ResizeU8(img.data(), img.size(), out.mutable_data(), out.size());
    } else {
      s = r.value().ResizeF32(img.data(), img.size(), out.mutable_data(), out.size());
    }
  }
  if (!s.ok()) RaiseStatus(s);
  return out;
}

using GazeFn = Status (*)(const double*, size_t, const egom2p::CropBox&, double, double*);

py::array_t<double> MapGaze(GazeFn fn, const py::handle& obj, int height, int width, double offset,
                            const std::optional<int>& crop_side) {
  const egom2p::CropBox crop = CheckedCropBox(height, width, crop_side);
  py::array_t<double> xy = CheckArray<double>(obj, "xy", 1, 32, "float64 array of shape (..., 2)");
  if (xy.shape(xy.ndim() - 1) != 2) {
    throw py::value_error("xy: expected a float64 array of shape (..., 2), got a " +
                          DescribeArray(xy));
  }
  py::array_t<double> out(std::vector<py::ssize_t>(xy.shape(), xy.shape() + xy.ndim()));
  Status s = fn(xy.data(), static_cast<size_t>(xy.size() / 2), crop, offset, out.mutable_data());
  if (!s.ok()) RaiseStatus(s);
  return out;
}

py::dtype NumpyDType(egom2p::DType t) {
  switch (t) {
    case egom2p::DType::kFloat32: return py::dtype::of<float>();
    case egom2p::DType::kFloat16: return py::dtype("float16");
    case egom2p::DType::kInt64: return py::dtype::of<int64_t>();
    case egom2p::DType::kInt32: return py::dtype::of<int32_t>();
    case egom2p::DType::kUInt8: return py::dtype::of<uint8_t>();
    case egom2p::DType::kBool: return py::dtype::of<bool>();
    default: throw std::runtime_error("safetensors: tensor with an unsupported dtype");
  }
}

std::pair<py::dict, py::dict> LoadSafetensors(const std::string& path) {
  egom2p::Result<egom2p::SafetensorsFile> r = egom2p::Status();
  {
    py::gil_scoped_release release;
    r = egom2p::LoadSafetensors(path);
  }
  if (!r.ok()) RaiseStatus(r.status());
  py::dict tensors;
  for (const egom2p::Tensor& t : r.value().tensors) {
    py::array a(NumpyDType(t.dtype), std::vector<py::ssize_t>(t.shape.begin(), t.shape.end()));
    if (!t.data.empty()) std::memcpy(a.mutable_data(), t.data.data(), t.data.size());
    tensors[py::str(t.name)] = a;
  }
  py::dict metadata;
  for (const auto& kv : r.value().metadata) metadata[py::str(kv.first)] = kv.second;
  return {tensors, metadata};
}

py::tuple PushResultToPython(const egom2p::ResamplePushResult& out) {
  py::list samples;
  for (const auto& s : out.samples) {
    samples.append(py::make_tuple(s.grid_index, s.grid_timestamp_ns, s.frame_index));
  }
  py::list windows;
  for (const auto& w : out.windows) {
    py::dict d;
    d["window_index"] = w.window_index;
    d["first_grid_index"] = w.first_grid_index;
    d["grid_timestamps_ns"] = w.grid_timestamps_ns;
    d["frame_indices"] = w.frame_indices;
    d["num_valid"] = w.num_valid;
    windows.append(d);
  }
  return py::make_tuple(samples, windows);
}

class PyFrameResampler {
 public:
  PyFrameResampler(int64_t period_ns, int window_frames, int hop_frames,
                   std::optional<int64_t> max_gap_ns) {
    egom2p::ResampleConfig config;
    config.period_ns = period_ns;
    config.window_frames = window_frames;
    config.hop_frames = hop_frames;
    config.max_gap_ns = max_gap_ns.has_value() ? *max_gap_ns : -1;
    if (max_gap_ns.has_value() && *max_gap_ns < 1) {
      throw py::value_error("max_gap_ns must be >= 1 or None (half the period), got " +
                            std::to_string(*max_gap_ns));
    }
    auto r = egom2p::FrameResampler::Create(config);
    if (!r.ok()) RaiseStatus(r.status());
    resampler_ = std::move(r.value());
  }

  py::tuple Push(int64_t timestamp_ns) {
    Status s = resampler_.Push(timestamp_ns, &out_);
    if (!s.ok()) RaiseStatus(s);
    return PushResultToPython(out_);
  }

  py::tuple Finish() {
    Status s = resampler_.Finish(&out_);
    if (!s.ok()) RaiseStatus(s);
    return PushResultToPython(out_);
  }

  const egom2p::FrameResampler& resampler() const { return resampler_; }

 private:
  egom2p::FrameResampler resampler_;
  egom2p::ResamplePushResult out_;
};

// A Python int seed reduced modulo 2^64, as PortableRng in egom2p_edge/rng.py does.
uint64_t SeedFromPython(const py::int_& seed) {
  if (py::isinstance<py::bool_>(seed)) throw py::value_error("seed must be an int, got a bool");
  py::int_ mask = py::int_(py::module_::import("builtins").attr("int")("ffffffffffffffff", 16));
  return py::cast<uint64_t>(seed & mask);
}

class PyPortableRng {
 public:
  explicit PyPortableRng(const py::int_& seed) : rng_(SeedFromPython(seed)) {}

  void BeginStep(int64_t step) {
    if (step < 0) throw py::value_error("step must be >= 0, got " + std::to_string(step));
    rng_.BeginStep(static_cast<uint64_t>(step));
  }

  py::array_t<uint64_t> NextU64(int64_t n) {
    py::array_t<uint64_t> out(CheckCount(n));
    Status s = rng_.NextU64(static_cast<size_t>(n), out.mutable_data());
    if (!s.ok()) RaiseStatus(s);
    return out;
  }

  py::array_t<float> Uniform(int64_t n) {
    py::array_t<float> out(CheckCount(n));
    Status s = rng_.Uniform(static_cast<size_t>(n), out.mutable_data());
    if (!s.ok()) RaiseStatus(s);
    return out;
  }

  py::array_t<int64_t> Order(const py::handle& obj) {
    py::array_t<bool> known = CheckArray<bool>(obj, "known", 1, 1, "bool array of shape (N,)");
    py::array_t<int64_t> out(known.shape(0));
    Status s = rng_.Order(reinterpret_cast<const uint8_t*>(known.data()),
                          static_cast<size_t>(known.shape(0)), out.mutable_data());
    if (!s.ok()) RaiseStatus(s);
    return out;
  }

  py::array_t<int64_t> Sample(const py::handle& obj) {
    py::array_t<float> probs = CheckArray<float>(obj, "probs", 2, 2, "float32 array (R, V)");
    py::array_t<int64_t> out(probs.shape(0));
    Status s;
    {
      py::gil_scoped_release release;
      s = rng_.Sample(probs.data(), probs.shape(0), probs.shape(1), out.mutable_data());
    }
    if (!s.ok()) RaiseStatus(s);
    return out;
  }

  uint64_t seed() const { return rng_.seed(); }
  uint64_t draws() const { return rng_.draws(); }

 private:
  static py::ssize_t CheckCount(int64_t n) {
    if (n < 0) throw py::value_error("n must be >= 0, got " + std::to_string(n));
    return static_cast<py::ssize_t>(n);
  }

  egom2p::PortableRng rng_;
};

}  // namespace

void BindBuildingBlocks(py::module_& m) {
  m.def(
      "center_crop_resize",
      [](const py::handle& img, int size, std::optional<int> crop_side) {
        return CropResize<uint8_t>(img, size, crop_side,
                                   "uint8 array of shape (H, W) or (H, W, C)");
      },
      py::arg("img"), py::arg("size"), py::arg("crop_side") = py::none(),
      "Square centre crop + exact integer area resize (bit-identical to "
      "egom2p_edge.preprocess.center_crop_resize). uint8 (H, W[, C]) -> (size, size[, C]).");
  m.def(
      "center_crop_resize_float",
      [](const py::handle& img, int size, std::optional<int> crop_side) {
        return CropResize<float>(img, size, crop_side,
                                 "float32 array of shape (H, W) or (H, W, C)");
      },
      py::arg("img"), py::arg("size"), py::arg("crop_side") = py::none(),
      "The same crop and weights for float32 images (float64 sums). (H, W[, C]) -> (size, "
      "size[, C]).");
  m.def(
      "crop_box",
      [](int height, int width, std::optional<int> side) {
        const egom2p::CropBox box = CheckedCropBox(height, width, side);
        return py::make_tuple(box.top, box.left, box.side);
      },
      py::arg("height"), py::arg("width"), py::arg("side") = py::none(),
      "(top, left, side) of the square centre crop (side None: min(height, width)).");
  m.def(
      "area_taps",
      [](int src, int dst) {
        auto r = egom2p::ComputeAreaTaps(src, dst);
        if (!r.ok()) RaiseStatus(r.status());
        const egom2p::AreaTaps& t = r.value();
        py::array_t<int64_t> index({t.dst, t.taps_per_output});
        py::array_t<int64_t> weight({t.dst, t.taps_per_output});
        for (size_t i = 0; i < t.index.size(); ++i) {
          index.mutable_data()[i] = t.index[i];
          weight.mutable_data()[i] = t.weight[i];
        }
        return py::make_tuple(index, weight);
      },
      py::arg("src"), py::arg("dst"), "(index, weight), int64 of shape (dst, K).");
  m.def(
      "gaze_px_to_crop_norm",
      [](const py::handle& xy, int height, int width, double offset, std::optional<int> crop_side) {
        return MapGaze(&egom2p::GazePxToCropNorm, xy, height, width, offset, crop_side);
      },
      py::arg("xy"), py::arg("height"), py::arg("width"), py::arg("pixel_center_offset") = 0.0,
      py::arg("crop_side") = py::none(),
      "Original-image pixels -> normalised square-crop coordinates. float64 (..., 2).");
  m.def(
      "crop_norm_to_gaze_px",
      [](const py::handle& xy, int height, int width, double offset, std::optional<int> crop_side) {
        return MapGaze(&egom2p::CropNormToGazePx, xy, height, width, offset, crop_side);
      },
      py::arg("xy"), py::arg("height"), py::arg("width"), py::arg("pixel_center_offset") = 0.0,
      py::arg("crop_side") = py::none(), "Inverse of gaze_px_to_crop_norm. float64 (..., 2).");

  m.def(
      "sha256_file",
      [](const std::string& path) {
        egom2p::Result<std::string> r = Status();
        {
          py::gil_scoped_release release;
          r = egom2p::Sha256FileHex(path);
        }
        if (!r.ok()) RaiseStatus(r.status());
        return r.value();
      },
      py::arg("path"), "SHA-256 of a file as 64 lowercase hex characters.");
  m.def(
      "sha256_bytes",
      [](const py::bytes& data) {
        const std::string s = data;
        return egom2p::Sha256BufferHex(s.data(), s.size());
      },
      py::arg("data"), "SHA-256 of a bytes object as 64 lowercase hex characters.");

  m.def(
      "load_safetensors", [](const std::string& path) { return LoadSafetensors(path).first; },
      py::arg("path"), "Read a .safetensors file: {name: numpy array}, in file order.");
  m.def(
      "load_safetensors_with_metadata",
      [](const std::string& path) {
        auto r = LoadSafetensors(path);
        return py::make_tuple(r.first, r.second);
      },
      py::arg("path"), "({name: numpy array}, {metadata key: value}).");

  py::class_<PyFrameResampler>(
      m, "FrameResampler",
      "Streaming resampler onto a fixed-rate grid with windows (twin of "
      "egom2p_edge.streaming.resample.FrameResampler). push/finish return (samples, windows): "
      "samples as (grid_index, grid_timestamp_ns, frame_index) tuples, windows as dicts.")
      .def(py::init<int64_t, int, int, std::optional<int64_t>>(), py::arg("period_ns") = 125000000,
           py::arg("window_frames") = 16, py::arg("hop_frames") = 4,
           py::arg("max_gap_ns") = py::none())
      .def("push", &PyFrameResampler::Push, py::arg("timestamp_ns"))
      .def("finish", &PyFrameResampler::Finish)
      .def("min_frame_index_needed",
           [](const PyFrameResampler& r) { return r.resampler().MinFrameIndexNeeded(); })
      .def_property_readonly(
          "frames_pushed", [](const PyFrameResampler& r) { return r.resampler().frames_pushed(); })
      .def_property_readonly(
          "samples_decided",
          [](const PyFrameResampler& r) { return r.resampler().samples_decided(); })
      .def_property_readonly(
          "windows_emitted",
          [](const PyFrameResampler& r) { return r.resampler().windows_emitted(); })
      .def_property_readonly("finished",
                             [](const PyFrameResampler& r) { return r.resampler().finished(); });

  m.def("mix64", &egom2p::Mix64, py::arg("z"), "SplitMix64's output function (modulo 2**64).");
  m.def(
      "step_key",
      [](const py::int_& seed, int64_t step) {
        if (step < 0) throw py::value_error("step must be >= 0, got " + std::to_string(step));
        return egom2p::StepKey(SeedFromPython(seed), static_cast<uint64_t>(step));
      },
      py::arg("seed"), py::arg("step"));
  py::class_<PyPortableRng>(m, "PortableRng",
                            "The portable decoding RNG (twin of egom2p_edge.rng.PortableRng), on "
                            "numpy arrays: order(known bool (N,)), sample(probs float32 (R, V)).")
      .def(py::init<const py::int_&>(), py::arg("seed") = 0)
      .def("begin_step", &PyPortableRng::BeginStep, py::arg("step"))
      .def("next_u64", &PyPortableRng::NextU64, py::arg("n"))
      .def("uniform", &PyPortableRng::Uniform, py::arg("n"))
      .def("order", &PyPortableRng::Order, py::arg("known"))
      .def("sample", &PyPortableRng::Sample, py::arg("probs"))
      .def_property_readonly("seed", &PyPortableRng::seed)
      .def_property_readonly("draws", &PyPortableRng::draws);
}
