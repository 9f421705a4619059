// Parsing bundle.json into a BundleManifest: the magic string and format version first, then
// every field, then the cross-field rules (the Python twin: egom2p_edge.bundle.manifest).
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "egom2p/bundle.h"
#include "egom2p/bundle_names.h"
#include "json_fields.h"

namespace egom2p {
namespace {

using internal::JsonFields;
using nlohmann::json;
namespace bn = bundle_names;

const std::vector<std::string> kDtypes = {"float32", "float16", "int64", "int32", "uint8", "bool"};
const std::vector<std::string> kDecodingModes = {"official", "joint", "single_pass"};
const std::vector<std::string> kSchemes = {"roar", "maskgit"};
const std::vector<std::string> kTokenSchedules = {"linear", "cosine"};
const std::vector<std::string> kGraphOptimization = {"disabled", "basic", "extended", "all"};
const std::vector<std::string> kExecutionModes = {"sequential", "parallel"};

#define EGOM2P_TRY(expr)     \
  do {                       \
    Status _s = (expr);      \
    if (!_s.ok()) return _s; \
  } while (false)

Status Invalid(const std::string& source, const std::string& what) {
  return Status(StatusCode::kFailedPrecondition, source + ": " + what);
}

DType ParseDType(const std::string& s) {
  if (s == "float32") return DType::kFloat32;
  if (s == "float16") return DType::kFloat16;
  if (s == "int64") return DType::kInt64;
  if (s == "int32") return DType::kInt32;
  if (s == "uint8") return DType::kUInt8;
  if (s == "bool") return DType::kBool;
  return DType::kUnknown;
}

Status CheckHeader(const json& d, const std::string& source) {
  if (!d.is_object() || !d.contains("magic") || d["magic"] != bn::kBundleMagic) {
    std::string found = d.is_object() ? (d.contains("magic") ? d["magic"].dump() : "nothing")
                                      : std::string(d.type_name());
    return Invalid(source, std::string("field 'magic' must be \"") + bn::kBundleMagic +
                               "\", found " + found +
                               "; this is not an egom2p-edge bundle manifest");
  }
  const auto it = d.find("format_version");
  if (it == d.end() || !it->is_number_integer() || it->get<int64_t>() < 1) {
    return Invalid(source, "field 'format_version' must be a positive integer, found " +
                               (it == d.end() ? std::string("nothing") : it->dump()));
  }
  if (it->get<int64_t>() > bn::kFormatVersion) {
    return Invalid(source, "field 'format_version' is " + it->dump() +
                               ", newer than this runtime reads (1.." +
                               std::to_string(bn::kFormatVersion) +
                               "); upgrade egom2p-edge, or re-export the bundle with this version");
  }
  return Status::Ok();
}

Status ParseTensor(const JsonFields& f, TensorSpec* t) {
  std::string dtype;
  EGOM2P_TRY(f.Str("name", &t->name));
  EGOM2P_TRY(f.Str("dtype", &dtype, kDtypes));
  t->dtype = ParseDType(dtype);
  const json* shape = nullptr;
  EGOM2P_TRY(f.List("shape", &shape));
  for (size_t i = 0; i < shape->size(); ++i) {
    const json& d = (*shape)[i];
    if (d.is_number_integer() && d.get<int64_t>() >= 1) {
      t->shape.push_back(d.get<int64_t>());
      t->dim_names.emplace_back();
    } else if (d.is_string() &&
               (d == bn::kDimBatch || d == bn::kDimInputTokens || d == bn::kDimTargetTokens)) {
      t->shape.push_back(-1);
      t->dim_names.push_back(d.get<std::string>());
    } else {
      return f.Fail("shape",
                    "entry " + std::to_string(i) + " must be an integer >= 1 or one of " +
                        json({bn::kDimBatch, bn::kDimInputTokens, bn::kDimTargetTokens}).dump(),
                    d);
    }
  }
  return Status::Ok();
}

Status ParseTensors(const JsonFields& f, const std::string& key,
                    const std::vector<std::string>& want, std::vector<TensorSpec>* out) {
  const json* list = nullptr;
  EGOM2P_TRY(f.List(key, &list));
  std::vector<std::string> got;
  for (size_t i = 0; i < list->size(); ++i) {
    JsonFields item(nullptr, "", "");
    EGOM2P_TRY(f.Item(key, i, &item));
    TensorSpec t;
    EGOM2P_TRY(ParseTensor(item, &t));
    got.push_back(t.name);
    out->push_back(std::move(t));
  }
  if (got != want) return f.Fail(key, "must name " + json(want).dump() + " in this order", got);
  return Status::Ok();
}

Status ParseStage(const std::string& name, const JsonFields& f, StageSpec* st) {
  const auto& known = bn::StageTensors();
  auto it = known.find(name);
  if (it == known.end()) {
    return Invalid(f.source(), "field '" + f.path() +
                                   "' is not a known stage (a newer SDK may know more); known "
                                   "stages are video/cam/gaze/backbone encoders and decoders");
  }
  st->name = name;
  int64_t opset = 0;
  EGOM2P_TRY(f.Str("file", &st->file));
  EGOM2P_TRY(f.Int("opset", 17, &opset));
  st->opset = static_cast<int>(opset);
  EGOM2P_TRY(ParseTensors(f, "inputs", it->second.inputs, &st->inputs));
  EGOM2P_TRY(ParseTensors(f, "outputs", it->second.outputs, &st->outputs));
  if (st->file != name + bn::kOnnxSuffix) {
    return f.Fail("file", "must be \"" + name + bn::kOnnxSuffix + "\"", json(st->file));
  }
  return Status::Ok();
}

Status ParseFile(const JsonFields& f, FileEntry* e) {
  EGOM2P_TRY(f.Str("name", &e->name));
  EGOM2P_TRY(f.Int("bytes", 0, &e->bytes));
  EGOM2P_TRY(f.Str("sha256", &e->sha256));
  const bool hex =
      e->sha256.size() == 64 && std::all_of(e->sha256.begin(), e->sha256.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      });
  if (!hex) return f.Fail("sha256", "must be 64 lowercase hex digits", json(e->sha256));
  if (e->name.empty() || e->name == "." || e->name == ".." || e->name == bn::kManifestFile ||
      e->name.find('/') != std::string::npos || e->name.find('\\') != std::string::npos) {
    return f.Fail("name", "must be a plain file name inside the bundle", json(e->name));
  }
  return Status::Ok();
}

Status ParseModality(const JsonFields& f, ModalityEntry* m) {
  int64_t index = 0;
  EGOM2P_TRY(f.Int("index", 0, &index));
  m->index = static_cast<int>(index);
  EGOM2P_TRY(f.Str("name", &m->name));
  EGOM2P_TRY(f.Str("short", &m->short_name));
  EGOM2P_TRY(f.Int("id", 0, &m->id));
  EGOM2P_TRY(f.Str("kind", &m->kind, {"video", "trajectory"}));
  EGOM2P_TRY(f.Int("vocab_size", 1, &m->vocab_size));
  EGOM2P_TRY(f.Ints("token_shape", 1, &m->token_shape));
  EGOM2P_TRY(f.OptStr("encoder_stage", &m->encoder_stage));
  EGOM2P_TRY(f.OptStr("decoder_stage", &m->decoder_stage));
  EGOM2P_TRY(f.Bool("backbone_input", &m->backbone_input));
  EGOM2P_TRY(f.Bool("backbone_target", &m->backbone_target));
  return Status::Ok();
}

Status ParseDefaults(const JsonFields& f, DecodingDefaults* d) {
  int64_t steps = 0;
  EGOM2P_TRY(f.Str("mode", &d->mode, kDecodingModes));
  EGOM2P_TRY(f.Int("steps", 1, &steps));
  d->steps = static_cast<int>(std::min<int64_t>(steps, 1 << 20));
  EGOM2P_TRY(f.Str("scheme", &d->scheme, kSchemes));
  EGOM2P_TRY(f.Str("schedule", &d->schedule, kTokenSchedules));
  EGOM2P_TRY(f.Float("temperature", 0.0, &d->temperature));
  EGOM2P_TRY(f.Str("temperature_schedule", &d->temperature_schedule));
  EGOM2P_TRY(f.Float("guidance_scale", -1e300, &d->guidance_scale));
  EGOM2P_TRY(f.Float("top_p", 0.0, &d->top_p));
  if (d->top_p > 1.0) return f.Fail("top_p", "must be in [0, 1]", json(d->top_p));
  EGOM2P_TRY(f.Float("top_k", 0.0, &d->top_k));
  return Status::Ok();
}

Status ParseSections(const JsonFields& f, BundleManifest* m) {
  JsonFields o(nullptr, "", "");
  bool found = false;
  EGOM2P_TRY(f.Obj("trajectory", true, &o, &found));
  if (found) {
    TrajectorySpec t;
    EGOM2P_TRY(o.Int("samples", 1, &t.samples));
    EGOM2P_TRY(o.Int("rate_hz", 1, &t.rate_hz));
    EGOM2P_TRY(o.Int("tokens", 1, &t.tokens));
    m->trajectory = t;
  }
  EGOM2P_TRY(f.Obj("video", true, &o, &found));
  if (found) {
    VideoSpec v;
    EGOM2P_TRY(o.Int("size", 1, &v.size));
    EGOM2P_TRY(o.Int("frames", 1, &v.frames));
    EGOM2P_TRY(o.Int("fps", 1, &v.fps));
    EGOM2P_TRY(o.Ints("token_grid", 1, &v.token_grid));
    if (v.token_grid.size() != 3) return o.Fail("token_grid", "must be [t, h, w]");
    EGOM2P_TRY(o.Int("vocab_size", 1, &v.vocab_size));
    m->video = v;
  }
  EGOM2P_TRY(f.Obj("backbone", true, &o, &found));
  if (found) {
    BackboneSpec b;
    EGOM2P_TRY(o.Int("dim", 1, &b.dim));
    EGOM2P_TRY(o.Int("decoder_vocab_size", 1, &b.decoder_vocab_size));
    EGOM2P_TRY(o.Strs("decoder_targets", &b.decoder_targets));
    m->backbone = b;
  }
  EGOM2P_TRY(f.Obj("decoding", true, &o, &found));
  if (found) {
    DecodingSpec d;
    JsonFields targets(nullptr, "", "");
    EGOM2P_TRY(o.Obj("targets", false, &targets, nullptr));
    for (const auto& [key, value] : targets.json().items()) {
      JsonFields t(nullptr, "", "");
      EGOM2P_TRY(targets.Obj(key, false, &t, nullptr));
      EGOM2P_TRY(ParseDefaults(t, &d.targets[key]));
    }
    EGOM2P_TRY(o.Strs("default_targets", &d.default_targets));
    EGOM2P_TRY(o.Strs("condition", &d.condition));
    EGOM2P_TRY(o.Bool("grow_conditioning", &d.grow_conditioning));
    m->decoding = d;
  }
  return Status::Ok();
}

// The optional sections of reduced-precision bundles: the per-stage precision and the TensorRT
// engine records (read leniently: only the fields the runtime uses are required).
const std::vector<std::string> kPrecisions = {"fp32", "fp16", "int8"};

Status ParsePrecisionAndEngines(const JsonFields& f, BundleManifest* m) {
  JsonFields o(nullptr, "", "");
  bool found = false;
  EGOM2P_TRY(f.Obj("precision", true, &o, &found));
  if (found) {
    JsonFields stages(nullptr, "", "");
    EGOM2P_TRY(o.Obj("stages", false, &stages, nullptr));
    for (const auto& [key, value] : stages.json().items()) {
      JsonFields st(nullptr, "", "");
      EGOM2P_TRY(stages.Obj(key, false, &st, nullptr));
      EGOM2P_TRY(st.Str("precision", &m->stage_precision[key], kPrecisions));
    }
  }
  const json* list = nullptr;
  EGOM2P_TRY(f.Raw("engines", true, &list));
  if (list == nullptr || list->is_null()) return Status::Ok();
  EGOM2P_TRY(f.List("engines", &list));
  for (size_t i = 0; i < list->size(); ++i) {
    EGOM2P_TRY(f.Item("engines", i, &o));
    EngineRecord e;
    EGOM2P_TRY(o.Str("stage", &e.stage));
    EGOM2P_TRY(o.Str("file", &e.file));
    EGOM2P_TRY(o.Str("precision", &e.precision));
    EGOM2P_TRY(o.Str("tensorrt_version", &e.tensorrt_version));
    EGOM2P_TRY(o.Str("gpu_name", &e.gpu_name));
    EGOM2P_TRY(o.Str("compute_capability", &e.compute_capability));
    JsonFields profile(nullptr, "", "");
    EGOM2P_TRY(o.Obj("profile", false, &profile, nullptr));
    for (const auto& [tensor, value] : profile.json().items()) {
      JsonFields shapes(nullptr, "", "");
      EGOM2P_TRY(profile.Obj(tensor, false, &shapes, nullptr));
      auto& dst = e.profile[tensor];
      for (const char* k : {"min", "opt", "max"}) {
        std::vector<int64_t> shape;
        EGOM2P_TRY(shapes.Ints(k, 0, &shape));
        dst.push_back(shape);
      }
    }
    m->engines.push_back(std::move(e));
  }
  return Status::Ok();
}

Status CheckConsistency(const BundleManifest& m, const std::string& source) {
  std::set<std::string> listed;
  for (const auto& e : m.files) {
    if (!listed.insert(e.name).second) return Invalid(source, "field 'files' lists a file twice");
  }
  if (!listed.count(bn::kGoldensFile)) {
    return Invalid(source, std::string("field 'files' must list ") + bn::kGoldensFile);
  }
  if (m.stages.empty()) return Invalid(source, "field 'stages' is empty; a bundle has >= 1 stage");
  for (const auto& [name, st] : m.stages) {
    if (!listed.count(st.file)) {
      return Invalid(source, "field 'stages." + name + ".file' names " + st.file +
                                 ", which 'files' does not list");
    }
  }
  std::set<std::string> names;
  for (size_t i = 0; i < m.modalities.size(); ++i) {
    const ModalityEntry& e = m.modalities[i];
    if (e.index != static_cast<int>(i)) {
      return Invalid(source, "field 'modalities' must be listed by index 0, 1, 2, ...");
    }
    if (!names.insert(e.name).second) {
      return Invalid(source, "field 'modalities' repeats the modality name " + e.name);
    }
    for (const std::string* st : {&e.encoder_stage, &e.decoder_stage}) {
      if (!st->empty() && !m.HasStage(*st)) {
        return Invalid(source, "field 'modalities[" + std::to_string(i) + "]' names stage '" + *st +
                                   "', which the bundle does not have");
      }
    }
  }
  const bool has_bb = m.HasStage(bn::kBackboneEncoder);
  if (has_bb != m.backbone.has_value() || has_bb != m.decoding.has_value()) {
    return Invalid(source, std::string("fields 'backbone' and 'decoding' must be present exactly "
                                       "when the stage ") +
                               bn::kBackboneEncoder + " is");
  }
  for (size_t i = 0; i < m.engines.size(); ++i) {
    const EngineRecord& e = m.engines[i];
    const std::string where = "field 'engines[" + std::to_string(i) + "]";
    if (!m.HasStage(e.stage)) {
      return Invalid(source, where + ".stage' names " + e.stage + ", which the bundle lacks");
    }
    if (!listed.count(e.file)) {
      return Invalid(source, where + ".file' names " + e.file + ", which 'files' does not list");
    }
  }
  if (!has_bb) return Status::Ok();
  for (const auto& t : m.backbone->decoder_targets) {
    const ModalityEntry* e = m.FindModality(t);
    if (e == nullptr || e->name != t || !e->backbone_target) {
      return Invalid(source, "field 'backbone.decoder_targets' names '" + t +
                                 "', which is not a backbone target in 'modalities'");
    }
  }
  auto is_target = [&](const std::string& t) {
    const auto& dt = m.backbone->decoder_targets;
    return std::find(dt.begin(), dt.end(), t) != dt.end();
  };
  for (const auto& [t, d] : m.decoding->targets) {
    if (!is_target(t)) {
      return Invalid(source,
                     "field 'decoding.targets' names '" + t + "', not among the decoder targets");
    }
  }
  for (const auto& t : m.backbone->decoder_targets) {
    if (!m.decoding->targets.count(t)) {
      return Invalid(source,
                     "field 'decoding.targets' has no defaults for the decoder target '" + t + "'");
    }
  }
  for (const auto& t : m.decoding->default_targets) {
    if (!is_target(t)) {
      return Invalid(source, "field 'decoding.default_targets' names '" + t +
                                 "', not among the decoder targets");
    }
  }
  for (const auto& c : m.decoding->condition) {
    if (!names.count(c)) {
      return Invalid(source, "field 'decoding.condition' names the unknown modality '" + c + "'");
    }
  }
  return Status::Ok();
}

}  // namespace

int64_t ModalityEntry::num_tokens() const {
  int64_t n = 1;
  for (int64_t d : token_shape) n *= d;
  return n;
}

const ModalityEntry* BundleManifest::FindModality(const std::string& name) const {
  for (const auto& m : modalities) {
    if (m.name == name || m.short_name == name) return &m;
  }
  return nullptr;
}

std::string BundleManifest::StagePrecision(const std::string& stage) const {
  auto it = stage_precision.find(stage);
  return it == stage_precision.end() ? preset_precision : it->second;
}

std::string BundleManifest::StagePath(const std::string& stage) const {
  auto it = stages.find(stage);
  return it == stages.end() ? std::string() : root + "/" + it->second.file;
}

Result<BundleManifest> ParseBundleManifest(const std::string& json_text,
                                           const std::string& source) {
  const json d = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (d.is_discarded()) return Invalid(source, "is not valid JSON");
  EGOM2P_TRY(CheckHeader(d, source));
  BundleManifest m;
  m.format_version = d["format_version"].get<int>();
  JsonFields f(&d, "", source);
  JsonFields o(nullptr, "", "");
  EGOM2P_TRY(f.Str("sdk_version", &m.sdk_version));
  EGOM2P_TRY(f.Obj("preset", false, &o, nullptr));
  EGOM2P_TRY(o.Str("name", &m.preset_name));
  const json* precision = nullptr;
  EGOM2P_TRY(o.Raw("precision", true, &precision));
  if (precision != nullptr) EGOM2P_TRY(o.Str("precision", &m.preset_precision));
  EGOM2P_TRY(f.Obj("session_options", false, &o, nullptr));
  EGOM2P_TRY(o.Int("intra_op_threads", 0, &m.session_options.intra_op_threads));
  EGOM2P_TRY(o.Int("inter_op_threads", 0, &m.session_options.inter_op_threads));
  EGOM2P_TRY(
      o.Str("graph_optimization", &m.session_options.graph_optimization, kGraphOptimization));
  EGOM2P_TRY(o.Str("execution_mode", &m.session_options.execution_mode, kExecutionModes));
  const json* list = nullptr;
  EGOM2P_TRY(f.List("files", &list));
  for (size_t i = 0; i < list->size(); ++i) {
    EGOM2P_TRY(f.Item("files", i, &o));
    FileEntry e;
    EGOM2P_TRY(ParseFile(o, &e));
    m.files.push_back(e);
  }
  JsonFields stages(nullptr, "", "");
  EGOM2P_TRY(f.Obj("stages", false, &stages, nullptr));
  for (const auto& [key, value] : stages.json().items()) {
    EGOM2P_TRY(stages.Obj(key, false, &o, nullptr));
    EGOM2P_TRY(ParseStage(key, o, &m.stages[key]));
  }
  EGOM2P_TRY(f.List("modalities", &list));
  for (size_t i = 0; i < list->size(); ++i) {
    EGOM2P_TRY(f.Item("modalities", i, &o));
    ModalityEntry e;
    EGOM2P_TRY(ParseModality(o, &e));
    m.modalities.push_back(e);
  }
  EGOM2P_TRY(ParseSections(f, &m));
  EGOM2P_TRY(ParsePrecisionAndEngines(f, &m));
  EGOM2P_TRY(CheckConsistency(m, source));
  return m;
}

}  // namespace egom2p
