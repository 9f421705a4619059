// pybind11 bindings of the C++ frame bus (registered by module.cc through BindFrameBus): the
// subscriber the runtime uses, the publisher, and the message codec, so tests can check the C++
// side against the Python one (devices/bus.py, devices/bus_format.py) over real sockets.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "egom2p/frame_bus.h"

namespace py = pybind11;

namespace {

using egom2p::BusFrame;
using egom2p::Status;
using egom2p::StatusCode;

[[noreturn]] void RaiseBusStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kUnavailable: throw py::value_error(s.message());
    default: throw std::runtime_error(s.ToString());
  }
}

// {"timestamp_ns", "sequence", "source", "end_of_stream", "rgb": (H, W, 3) uint8 or None}.
py::dict FrameToDict(const BusFrame& f) {
  py::dict d;
  d["timestamp_ns"] = f.timestamp_ns;
  d["sequence"] = f.sequence;
  d["source"] = f.source;
  d["end_of_stream"] = f.end_of_stream;
  if (f.end_of_stream) {
    d["rgb"] = py::none();
  } else {
    py::array_t<uint8_t> rgb({static_cast<py::ssize_t>(f.height), static_cast<py::ssize_t>(f.width),
                              static_cast<py::ssize_t>(3)});
    std::memcpy(rgb.mutable_data(), f.rgb.data(), f.rgb.size());
    d["rgb"] = rgb;
  }
  return d;
}

BusFrame FrameFromNumpy(const py::handle& obj, int64_t timestamp_ns, const std::string& source) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::value_error("rgb: expected a numpy (H, W, 3) uint8 array, got " +
                          std::string(py::str(py::type::of(obj).attr("__name__"))));
  }
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<uint8_t>()) || a.ndim() != 3 || a.shape(2) != 3) {
    throw py::value_error("rgb: expected a (H, W, 3) uint8 array, got " +
                          std::string(py::str(a.dtype())) + " with " + std::to_string(a.ndim()) +
                          " dimensions");
  }
  py::array c = py::array::ensure(a, py::array::c_style);
  BusFrame f;
  f.timestamp_ns = timestamp_ns;
  f.height = static_cast<int>(c.shape(0));
  f.width = static_cast<int>(c.shape(1));
  f.source = source;
  f.rgb.resize(static_cast<size_t>(c.nbytes()));
  if (c.nbytes() > 0) std::memcpy(f.rgb.data(), c.data(), f.rgb.size());
  return f;
}

class PyFrameBusSubscriber {
 public:
  PyFrameBusSubscriber(const std::string& endpoint, bool latest_only, int rcvhwm, bool bind) {
    egom2p::FrameSubscriberOptions options;
    options.latest_only = latest_only;
    options.rcvhwm = rcvhwm;
    options.bind = bind;
    auto r = egom2p::FrameSubscriber::Create(endpoint, options);
    if (!r.ok()) RaiseBusStatus(r.status());
    sub_ = std::move(r.value());
  }

  py::object Receive(int timeout_ms) {
    BusFrame frame;
    egom2p::Result<bool> r(false);
    {
      py::gil_scoped_release release;
      r = sub_->Receive(timeout_ms, &frame);
    }
    if (!r.ok()) RaiseBusStatus(r.status());
    if (!r.value()) return py::none();
    return FrameToDict(frame);
  }

  uint64_t FramesReceived() const { return sub_->frames_received(); }
  uint64_t FramesDropped() const { return sub_->frames_dropped(); }

 private:
  std::unique_ptr<egom2p::FrameSubscriber> sub_;
};

class PyFrameBusPublisher {
 public:
  PyFrameBusPublisher(const std::string& endpoint, int sndhwm, bool bind, bool lossless) {
    egom2p::FramePublisherOptions options;
    options.sndhwm = sndhwm;
    options.bind = bind;
    options.lossless = lossless;
    auto r = egom2p::FramePublisher::Create(endpoint, options);
    if (!r.ok()) RaiseBusStatus(r.status());
    pub_ = std::move(r.value());
  }

  void WaitForSubscribers(int n, int timeout_ms) {
    Status s;
    {
      py::gil_scoped_release release;
      s = pub_->WaitForSubscribers(n, timeout_ms);
    }
    if (!s.ok()) {
      PyErr_SetString(PyExc_TimeoutError, s.message().c_str());
      throw py::error_already_set();
    }
  }

  bool Publish(const py::handle& rgb, int64_t timestamp_ns, const std::string& source) {
    BusFrame f = FrameFromNumpy(rgb, timestamp_ns, source);
    egom2p::Result<bool> r(false);
    {
      py::gil_scoped_release release;
      r = pub_->Publish(f);
    }
    if (!r.ok()) RaiseBusStatus(r.status());
    return r.value();
  }

  void Close() {
    Status s = pub_->Close();
    if (!s.ok()) RaiseBusStatus(s);
  }

  std::string Endpoint() const { return pub_->endpoint(); }
  uint64_t FramesDropped() const { return pub_->frames_dropped(); }

 private:
  std::unique_ptr<egom2p::FramePublisher> pub_;
};

}  // namespace

void BindFrameBus(py::module_& m) {
  py::class_<PyFrameBusSubscriber>(
      m, "FrameBusSubscriber",
      "The C++ frame-bus subscriber (egom2p::FrameSubscriber): receives frames published by "
      "egom2p_edge.devices.FramePublisher or the C++ publisher.")
      .def(py::init<const std::string&, bool, int, bool>(), py::arg("endpoint"),
           py::arg("latest_only") = false, py::arg("rcvhwm") = 16, py::arg("bind") = false)
      .def("receive", &PyFrameBusSubscriber::Receive, py::arg("timeout_ms") = -1,
           "One message as a dict {timestamp_ns, sequence, source, end_of_stream, rgb (H, W, 3) "
           "uint8 or None}, or None after timeout_ms (-1: wait forever). ValueError for a bad "
           "message or an out-of-order frame.")
      .def_property_readonly("frames_received", &PyFrameBusSubscriber::FramesReceived)
      .def_property_readonly("frames_dropped", &PyFrameBusSubscriber::FramesDropped);

  py::class_<PyFrameBusPublisher>(m, "FrameBusPublisher",
                                  "The C++ frame-bus publisher (egom2p::FramePublisher).")
      .def(py::init<const std::string&, int, bool, bool>(), py::arg("endpoint"),
           py::arg("sndhwm") = 16, py::arg("bind") = true, py::arg("lossless") = false)
      .def("wait_for_subscribers", &PyFrameBusPublisher::WaitForSubscribers, py::arg("n") = 1,
           py::arg("timeout_ms") = 10000, "TimeoutError when fewer than n subscribed in time.")
      .def("publish", &PyFrameBusPublisher::Publish, py::arg("rgb"), py::arg("timestamp_ns"),
           py::arg("source") = "cpp", "True: sent; False: a full queue dropped it.")
      .def("close", &PyFrameBusPublisher::Close, "Send the end-of-stream message.")
      .def_property_readonly("endpoint", &PyFrameBusPublisher::Endpoint)
      .def_property_readonly("frames_dropped", &PyFrameBusPublisher::FramesDropped);

  m.def(
      "encode_frame_message",
      [](const py::handle& rgb, int64_t timestamp_ns, uint64_t sequence, const std::string& source,
         bool end_of_stream) {
        BusFrame f;
        if (end_of_stream) {
          f.end_of_stream = true;
          f.timestamp_ns = timestamp_ns;
          f.source = source;
        } else {
          f = FrameFromNumpy(rgb, timestamp_ns, source);
        }
        f.sequence = sequence;
        auto r = egom2p::EncodeBusFrame(f);
        if (!r.ok()) RaiseBusStatus(r.status());
        return py::bytes(reinterpret_cast<const char*>(r.value().data()), r.value().size());
      },
      py::arg("rgb"), py::arg("timestamp_ns"), py::arg("sequence") = 0, py::arg("source") = "cpp",
      py::arg("end_of_stream") = false,
      "One frame-bus message encoded by the C++ codec (rgb is ignored for end_of_stream).");
  m.def(
      "decode_frame_message",
      [](const py::bytes& message) {
        std::string bytes = message;
        BusFrame f;
        Status s = egom2p::DecodeBusFrame(reinterpret_cast<const uint8_t*>(bytes.data()),
                                          bytes.size(), &f);
        if (!s.ok()) RaiseBusStatus(s);
        return FrameToDict(f);
      },
      py::arg("message"), "A frame-bus message decoded by the C++ codec, as a dict.");
}
