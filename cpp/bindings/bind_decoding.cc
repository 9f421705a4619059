// pybind11 bindings of the decoding building blocks (schedules, plan, token choice numerics),
// registered through BindRuntime. They exist so tests can compare the C++ code with its numpy
// twins (python/egom2p_edge/pipeline/{numerics,plan}.py) value for value.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "egom2p/bundle.h"
#include "egom2p/decoding.h"
#include "egom2p/rng.h"
#include "egom2p/stream_config.h"

namespace py = pybind11;

namespace {

using egom2p::Status;

void Check(const Status& s) {
  if (s.code() == egom2p::StatusCode::kNotFound) {
    PyErr_SetString(PyExc_FileNotFoundError, s.message().c_str());
    throw py::error_already_set();
  }
  if (!s.ok()) throw py::value_error(s.message());
}

template <typename T>
T Unwrap(egom2p::Result<T> r) {
  Check(r.status());
  return std::move(r.value());
}

// A (rows, vocab) float32 C-contiguous copy of `a`; ValueError otherwise.
py::array_t<float> Rows(const py::array& a, const char* what) {
  if (!a.dtype().is(py::dtype::of<float>()) || a.ndim() != 2) {
    throw py::value_error(std::string(what) + ": expected a (rows, vocab) float32 array");
  }
  py::array_t<float> out({a.shape(0), a.shape(1)});
  py::array_t<float> c = py::array_t<float, py::array::c_style>::ensure(a);
  std::copy(c.data(), c.data() + c.size(), out.mutable_data());
  return out;
}

py::list PlanToList(const egom2p::ResolvedDecoding& d, const std::vector<egom2p::PlanStep>& plan) {
  py::list steps;
  for (const auto& s : plan) {
    py::list entries;
    for (const auto& e : s.entries) {
      entries.append(py::make_tuple(d.targets[e.target].name, e.num_tokens, e.temperature));
    }
    steps.append(py::make_tuple(entries, s.guidance_scale, s.emptied, s.guided()));
  }
  return steps;
}

}  // namespace

void BindDecoding(py::module_& m) {
  m.def(
      "portable_exp",
      [](py::array_t<double, py::array::c_style | py::array::forcecast> x) {
        py::array_t<double> out(x.size());
        for (py::ssize_t i = 0; i < x.size(); ++i)
          out.mutable_data()[i] = egom2p::PortableExp(x.data()[i]);
        return out;
      },
      py::arg("x"), "PortableExp of each value (flattened).");
  m.def(
      "softmax_rows",
      [](const py::array& logits) {
        py::array_t<float> x = Rows(logits, "softmax_rows");
        py::array_t<float> p({x.shape(0), x.shape(1)});
        Check(egom2p::SoftmaxRows(x.data(), x.shape(0), x.shape(1), p.mutable_data()));
        return p;
      },
      py::arg("logits"));
  m.def(
      "guide_logits",
      [](const py::array& cond, const py::array& uncond, double scale) {
        py::array_t<float> c = Rows(cond, "guide_logits"), u = Rows(uncond, "guide_logits");
        if (c.size() != u.size()) throw py::value_error("guide_logits: shapes differ");
        py::array_t<float> out({c.shape(0), c.shape(1)});
        egom2p::GuideLogits(c.data(), u.data(), c.size(), scale, out.mutable_data());
        return out;
      },
      py::arg("cond"), py::arg("uncond"), py::arg("scale"));
  m.def(
      "top_k_filter",
      [](const py::array& logits, double top_k) {
        py::array_t<float> x = Rows(logits, "top_k_filter");
        Check(egom2p::TopKFilter(x.mutable_data(), x.shape(0), x.shape(1), top_k));
        return x;
      },
      py::arg("logits"), py::arg("top_k"));
  m.def(
      "top_p_filter",
      [](const py::array& logits, double top_p) {
        py::array_t<float> x = Rows(logits, "top_p_filter");
        Check(egom2p::TopPFilter(x.mutable_data(), x.shape(0), x.shape(1), top_p));
        return x;
      },
      py::arg("logits"), py::arg("top_p"));
  m.def(
      "choose_tokens",
      [](const py::array& logits, double temperature, double top_k, double top_p, uint64_t seed,
         uint64_t step) {
        py::array_t<float> x = Rows(logits, "choose_tokens");
        egom2p::PortableRng rng(seed);
        rng.BeginStep(step);
        py::array_t<int64_t> tokens(x.shape(0));
        py::array_t<float> probs(x.shape(0));
        Check(egom2p::ChooseTokens(x.data(), x.shape(0), x.shape(1), temperature, top_k, top_p,
                                   &rng, tokens.mutable_data(), probs.mutable_data()));
        return py::make_tuple(tokens, probs);
      },
      py::arg("logits"), py::arg("temperature"), py::arg("top_k"), py::arg("top_p"),
      py::arg("seed"), py::arg("step"),
      "Tokens and their probabilities with PortableRng(seed) inside step `step`.");
  m.def(
      "token_schedule",
      [](const std::string& kind, int n, int steps) {
        return Unwrap(egom2p::TokenSchedule(kind, n, steps));
      },
      py::arg("kind"), py::arg("num_tokens"), py::arg("num_steps"));
  m.def(
      "temperature_schedule",
      [](const std::string& kind, double t, int steps) {
        return Unwrap(egom2p::TemperatureSchedule(kind, t, steps));
      },
      py::arg("kind"), py::arg("temperature"), py::arg("num_steps"));
  m.def(
      "decoding_plan",
      [](const std::string& bundle_dir, const std::vector<std::string>& targets,
         const std::string& mode, std::optional<double> temperature, std::optional<int> steps,
         const std::map<std::string, int>& steps_per_target, std::optional<double> guidance_scale,
         std::optional<double> top_p) {
        egom2p::BundleManifest manifest = Unwrap(egom2p::ReadBundleManifest(bundle_dir));
        egom2p::StreamOptions o;
        o.targets = targets;
        o.mode = mode;
        o.temperature = temperature;
        o.steps = steps;
        o.steps_per_target = steps_per_target;
        o.guidance_scale = guidance_scale;
        o.top_p = top_p;
        egom2p::ResolvedDecoding d = Unwrap(egom2p::ResolveDecoding(manifest, o));
        return py::make_tuple(d.mode,
                              PlanToList(d, Unwrap(egom2p::BuildDecodingPlan(d, {"tok_rgb"}))));
      },
      py::arg("bundle_dir"), py::arg("targets"), py::arg("mode"), py::arg("temperature"),
      py::arg("steps"), py::arg("steps_per_target"), py::arg("guidance_scale"), py::arg("top_p"),
      "The resolved mode and the plan [(entries [(target, num_tokens, temperature)], "
      "guidance_scale, emptied, guided)] of a stream's options.");
}
