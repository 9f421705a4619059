// Stream options -> the resolved decoding of each target (twin of
// python/egom2p_edge/streaming/options.py: the same checks and the same precedence).
#include "egom2p/stream_config.h"

#include <algorithm>
#include <cmath>

namespace egom2p {
namespace {

Status Bad(const std::string& what) {
  return Status(StatusCode::kInvalidArgument, "stream: " + what);
}

std::string Join(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", '" : "'") + v[i] + "'";
  return s + "]";
}

// The model key of a decoder target named by short or model name.
Result<std::string> TargetName(const BundleManifest& m, const std::string& name) {
  const ModalityEntry* e = m.FindModality(name);
  const auto& targets = m.backbone->decoder_targets;
  if (e == nullptr || std::find(targets.begin(), targets.end(), e->name) == targets.end()) {
    std::vector<std::string> shorts;
    for (const auto& t : targets) shorts.push_back(m.FindModality(t)->short_name);
    return Bad("target '" + name + "' is not one this bundle decodes; choose among " +
               Join(shorts) + " (or " + Join(targets) + ")");
  }
  return e->name;
}

Status CheckOverrides(const StreamOptions& o) {
  if (o.targets.empty()) {
    return Bad("targets must be a non-empty list of names such as ('gaze', 'cam')");
  }
  if (o.hop_frames < 1) return Bad("hop_frames must be >= 1, got " + std::to_string(o.hop_frames));
  if (!o.mode.empty() && o.mode != "official" && o.mode != "joint" && o.mode != "single_pass") {
    return Bad("mode must be one of ['official', 'joint', 'single_pass'], got '" + o.mode + "'");
  }
  if (o.temperature && !(std::isfinite(*o.temperature) && *o.temperature >= 0)) {
    return Bad("temperature must be a finite number >= 0 (0 = argmax), got " +
               std::to_string(*o.temperature));
  }
  if (o.guidance_scale && !std::isfinite(*o.guidance_scale)) {
    return Bad("guidance_scale must be a finite number (1 = no guidance), got " +
               std::to_string(*o.guidance_scale));
  }
  if (o.top_p && !(*o.top_p >= 0 && *o.top_p <= 1)) {
    return Bad("top_p must be in [0, 1] (0 = off), got " + std::to_string(*o.top_p));
  }
  if (!(o.history_s >= 0) || !std::isfinite(o.history_s)) {
    return Bad("history_s must be a number of seconds >= 0 (0 = keep every sample), got " +
               std::to_string(o.history_s));
  }
  if (o.steps && *o.steps < 1) return Bad("steps must be >= 1, got " + std::to_string(*o.steps));
  for (const auto& [k, v] : o.steps_per_target) {
    if (v < 1) return Bad("steps['" + k + "'] must be >= 1, got " + std::to_string(v));
  }
  return Status::Ok();
}

}  // namespace

Result<ResolvedDecoding> ResolveDecoding(const BundleManifest& m, const StreamOptions& o) {
  if (!m.backbone || !m.decoding) {
    return Bad("the bundle has no backbone stages; nothing can be decoded");
  }
  if (Status s = CheckOverrides(o); !s.ok()) return s;
  std::vector<std::string> names;
  for (const auto& t : o.targets) {
    Result<std::string> n = TargetName(m, t);
    if (!n.ok()) return n.status();
    if (std::find(names.begin(), names.end(), n.value()) != names.end()) {
      return Bad("targets name a modality twice: " + Join(o.targets));
    }
    names.push_back(n.value());
  }
  std::map<std::string, int> steps;
  if (o.steps) {
    for (const auto& n : names) steps[n] = *o.steps;
  }
  for (const auto& [k, v] : o.steps_per_target) {
    Result<std::string> n = TargetName(m, k);
    if (!n.ok()) return n.status();
    if (std::find(names.begin(), names.end(), n.value()) == names.end()) {
      return Bad("steps names '" + k + "', which is not among the targets " + Join(o.targets));
    }
    steps[n.value()] = v;
  }
  ResolvedDecoding out;
  for (const auto& n : names) {
    const DecodingDefaults& d = m.decoding->targets.at(n);
    const ModalityEntry* e = m.FindModality(n);
    TargetDecoding t;
    t.name = n;
    t.modality_index = e->index;
    t.num_tokens = static_cast<int>(e->num_tokens());
    t.vocab_size = e->vocab_size;
    t.decoder_stage = e->decoder_stage;
    t.steps = steps.count(n) ? steps[n] : d.steps;
    t.scheme = d.scheme;
    t.schedule = d.schedule;
    t.temperature = o.temperature.value_or(d.temperature);
    t.temperature_schedule = d.temperature_schedule;
    t.guidance_scale = o.guidance_scale.value_or(d.guidance_scale);
    t.top_p = o.top_p.value_or(d.top_p);
    t.top_k = d.top_k;
    if (t.vocab_size > m.backbone->decoder_vocab_size) {
      return Bad("target '" + n + "' has a vocabulary of " + std::to_string(t.vocab_size) +
                 " ids, more than the decoder's " + std::to_string(m.backbone->decoder_vocab_size) +
                 "; the bundle is inconsistent");
    }
    out.targets.push_back(t);
  }
  out.mode = o.mode.empty() ? m.decoding->targets.at(names[0]).mode : o.mode;
  if (o.reuse_condition && out.mode == "official") {
    return Bad(
        "reuse_condition=True changes the decoding, so it is only offered in the fast modes; "
        "pass mode='joint' or mode='single_pass' (official mode is the paper's recipe)");
  }
  out.reuse_condition = o.reuse_condition;
  out.condition = m.decoding->condition;
  out.grow_conditioning = m.decoding->grow_conditioning;
  return out;
}

}  // namespace egom2p
