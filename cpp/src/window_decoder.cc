// One window's decoding with the backbone engines (twin of
// python/egom2p_edge/pipeline/decoder.py).
#include "egom2p/window_decoder.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <optional>
#include <set>

#include "egom2p/bundle_names.h"

namespace egom2p {
namespace {

namespace bn = bundle_names;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The selected tokens of one encoder row: (ids, modality, position) per slot.
struct SlotRow {
  std::vector<int64_t> ids, modality, positions;
};

// Slots of the known tokens of the states `keep` accepts (modality-table order).
template <typename Keep>
SlotRow GatherSlots(const std::vector<TokenState>& states, Keep keep) {
  std::vector<const TokenState*> ordered;
  for (const auto& s : states) ordered.push_back(&s);
  std::stable_sort(ordered.begin(), ordered.end(), [](const TokenState* a, const TokenState* b) {
    return a->modality_index < b->modality_index;
  });
  SlotRow row;
  for (const TokenState* s : ordered) {
    if (!keep(s->name)) continue;
    for (size_t p = 0; p < s->known.size(); ++p) {
      if (!s->known[p]) continue;
      row.ids.push_back(s->ids[p]);
      row.modality.push_back(s->modality_index);
      row.positions.push_back(static_cast<int64_t>(p));
    }
  }
  return row;
}

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Encoder inputs, rows padded to a common length N >= 1. Each (B, N).
std::vector<Tensor> EncoderFeeds(const std::vector<SlotRow>& rows) {
  size_t n = 1;
  for (const auto& r : rows) n = std::max(n, r.ids.size());
  const std::vector<int64_t> shape = {static_cast<int64_t>(rows.size()), static_cast<int64_t>(n)};
  Tensor ids = Tensor::Zeros(bn::kInputIds, DType::kInt64, shape);
  Tensor mod = Tensor::Zeros(bn::kInputModality, DType::kInt64, shape);
  Tensor pos = Tensor::Zeros(bn::kInputPositions, DType::kInt64, shape);
  Tensor valid = Tensor::Zeros(bn::kInputValid, DType::kBool, shape);
  for (size_t b = 0; b < rows.size(); ++b) {
    const SlotRow& r = rows[b];
    for (size_t i = 0; i < n; ++i) {
      const bool live = i < r.ids.size();
      ids.Data<int64_t>()[b * n + i] = live ? r.ids[i] : bn::kPadId;
      mod.Data<int64_t>()[b * n + i] = live ? r.modality[i] : bn::kPadModality;
      pos.Data<int64_t>()[b * n + i] = live ? r.positions[i] : bn::kPadPosition;
      valid.Data<uint8_t>()[b * n + i] = live ? 1 : 0;
    }
  }
  return {std::move(ids), std::move(mod), std::move(pos), std::move(valid)};
}

TokenState* FindState(std::vector<TokenState>* states, const std::string& name) {
  for (auto& s : *states) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// An encoder output and its validity: context (B, N, D) float32, valid (B, N) bool.
struct Context {
  Tensor context;
  Tensor valid;
};

// Rows [cond, uncond] of (n, V_all) logits each, as float pointers into owned tensors.
struct StepLogits {
  std::vector<Tensor> tensors;
  std::vector<const float*> rows;
  int64_t v_all = 0;
};

}  // namespace

namespace {

Status Encode(Engine* encoder, const std::vector<SlotRow>& rows, Context* out) {
  std::vector<Tensor> in = EncoderFeeds(rows);
  std::vector<Tensor> res;
  if (Status r = encoder->Run(in, &res); !r.ok()) return r;
  out->context = std::move(res[0]);
  out->valid = std::move(in[3]);
  out->valid.name = bn::kContextValid;
  return Status::Ok();
}

// Context (1, Na + Nb, D) of two batch-1 contexts, with their validity.
Context Concat(const Context& a, const Context& b) {
  Context out;
  const int64_t na = a.context.shape[1], nb = b.context.shape[1], d = a.context.shape[2];
  out.context = Tensor::Zeros(bn::kContext, DType::kFloat32, {1, na + nb, d});
  std::copy(a.context.data.begin(), a.context.data.end(), out.context.data.begin());
  std::copy(b.context.data.begin(), b.context.data.end(),
            out.context.data.begin() + static_cast<std::ptrdiff_t>(a.context.data.size()));
  out.valid = Tensor::Zeros(bn::kContextValid, DType::kBool, {1, na + nb});
  std::copy(a.valid.data.begin(), a.valid.data.end(), out.valid.data.begin());
  std::copy(b.valid.data.begin(), b.valid.data.end(), out.valid.data.begin() + na);
  return out;
}

Status RunDecoder(Engine* decoder, const Context& ctx, const std::vector<int64_t>& tm,
                  const std::vector<int64_t>& tp, Tensor* logits) {
  const int64_t b = ctx.context.shape[0], m = static_cast<int64_t>(tm.size());
  Tensor tmt = Tensor::Zeros(bn::kTargetModality, DType::kInt64, {b, m});
  Tensor tpt = Tensor::Zeros(bn::kTargetPositions, DType::kInt64, {b, m});
  for (int64_t row = 0; row < b; ++row) {
    std::copy(tm.begin(), tm.end(), tmt.Data<int64_t>() + row * m);
    std::copy(tp.begin(), tp.end(), tpt.Data<int64_t>() + row * m);
  }
  std::vector<Tensor> res;
  Tensor context = ctx.context;
  context.name = bn::kContext;
  if (Status r = decoder->Run({context, ctx.valid, tmt, tpt}, &res); !r.ok()) return r;
  *logits = std::move(res[0]);  // (B, M, V)
  return Status::Ok();
}

}  // namespace

Status WindowDecoder::Decode(const ResolvedDecoding& decoding, const std::vector<PlanStep>& plan,
                             PortableRng* rng, std::vector<TokenState>* states,
                             StreamTimings* timers) {
  StreamTimings scratch;
  if (timers == nullptr) timers = &scratch;
  if (timers->steps.size() < plan.size()) timers->steps.resize(plan.size());
  std::vector<std::string> targets;
  for (const auto& t : decoding.targets) {
    if (FindState(states, t.name) == nullptr) {
      return Status(StatusCode::kInvalidArgument, "WindowDecoder: no state for " + t.name);
    }
    targets.push_back(t.name);
  }
  std::vector<std::string> inputs;
  for (const auto& s : *states) {
    if (!Contains(targets, s.name)) inputs.push_back(s.name);
  }
  const bool separate = decoding.mode != "official";
  const bool reuse = separate && decoding.reuse_condition;
  std::optional<Context> cached;  // (1, N_inputs, D): the inputs' encodings

  for (size_t s = 0; s < plan.size(); ++s) {
    const int64_t t_step = NowUs();
    const PlanStep& step = plan[s];
    rng->BeginStep(s);
    // Query positions of each entry, in step order.
    std::vector<std::vector<int64_t>> positions;
    for (const PlanEntry& e : step.entries) {
      const TargetDecoding& t = decoding.targets[e.target];
      TokenState* st = FindState(states, t.name);
      std::vector<int64_t> pos;
      if (t.scheme == "roar") {
        std::vector<int64_t> order(st->known.size());
        if (Status r = rng->Order(st->known.data(), st->known.size(), order.data()); !r.ok()) {
          return r;
        }
        const size_t unknown = std::count(st->known.begin(), st->known.end(), 0);
        if (static_cast<size_t>(e.num_tokens) > unknown) {
          return Status(StatusCode::kInternal,
                        "decoding plan wants more tokens of " + t.name + " than are unknown");
        }
        pos.assign(order.begin(), order.begin() + e.num_tokens);
      } else {
        for (size_t p = 0; p < st->known.size(); ++p) {
          if (!st->known[p]) pos.push_back(static_cast<int64_t>(p));
        }
      }
      positions.push_back(std::move(pos));
    }
    std::vector<int64_t> tm, tp;  // (M,)
    for (size_t i = 0; i < step.entries.size(); ++i) {
      const int modality = decoding.targets[step.entries[i].target].modality_index;
      for (int64_t p : positions[i]) {
        tm.push_back(modality);
        tp.push_back(p);
      }
    }
    const std::vector<std::string>& emptied = step.emptied;
    auto all = [](const std::string&) { return true; };
    auto uncond = [&emptied](const std::string& n) { return !Contains(emptied, n); };

    StepLogits logits;
    int64_t t0 = NowUs();
    if (!separate) {
      std::vector<SlotRow> rows = {GatherSlots(*states, all)};
      if (step.guided()) rows.push_back(GatherSlots(*states, uncond));
      Context ctx;
      if (Status r = Encode(encoder_, rows, &ctx); !r.ok()) return r;
      timers->encode.Add(NowUs() - t0);
      t0 = NowUs();
      logits.tensors.resize(1);
      if (Status r = RunDecoder(decoder_, ctx, tm, tp, &logits.tensors[0]); !r.ok()) return r;
      timers->decode.Add(NowUs() - t0);
      const Tensor& l = logits.tensors[0];
      logits.v_all = l.shape[2];
      for (int64_t b = 0; b < l.shape[0]; ++b) {
        logits.rows.push_back(l.Data<float>() + b * l.shape[1] * l.shape[2]);
      }
    } else {
      std::vector<Context> rows;
      if (reuse && cached) {
        auto own_only = [&inputs](const std::string& n) { return !Contains(inputs, n); };
        Context own;
        if (Status r = Encode(encoder_, {GatherSlots(*states, own_only)}, &own); !r.ok()) return r;
        rows.push_back(Concat(own, *cached));
        if (step.guided()) {
          const std::set<std::string> e(emptied.begin(), emptied.end());
          const std::set<std::string> in(inputs.begin(), inputs.end());
          if (e == in) {
            rows.push_back(std::move(own));
          } else {
            Context u;
            if (Status r = Encode(encoder_, {GatherSlots(*states, uncond)}, &u); !r.ok()) return r;
            rows.push_back(std::move(u));
          }
        }
      } else {
        Context full;
        if (Status r = Encode(encoder_, {GatherSlots(*states, all)}, &full); !r.ok()) return r;
        bool only_inputs = true;
        for (const auto& st : *states) {
          const bool any = std::find(st.known.begin(), st.known.end(), 1) != st.known.end();
          only_inputs = only_inputs && (any == Contains(inputs, st.name));
        }
        if (reuse && only_inputs) cached = full;
        rows.push_back(std::move(full));
        if (step.guided()) {
          Context u;
          if (Status r = Encode(encoder_, {GatherSlots(*states, uncond)}, &u); !r.ok()) return r;
          rows.push_back(std::move(u));
        }
      }
      timers->encode.Add(NowUs() - t0);
      t0 = NowUs();
      logits.tensors.resize(rows.size());
      for (size_t r = 0; r < rows.size(); ++r) {
        if (Status st = RunDecoder(decoder_, rows[r], tm, tp, &logits.tensors[r]); !st.ok()) {
          return st;
        }
        logits.rows.push_back(logits.tensors[r].Data<float>());
      }
      logits.v_all = logits.tensors[0].shape[2];
      timers->decode.Add(NowUs() - t0);
    }

    t0 = NowUs();
    const int64_t v_all = logits.v_all;
    int64_t start = 0;
    for (size_t i = 0; i < step.entries.size(); ++i) {
      const PlanEntry& e = step.entries[i];
      const TargetDecoding& t = decoding.targets[e.target];
      std::vector<int64_t>& pos = positions[i];
      const int64_t n = static_cast<int64_t>(pos.size());
      const int64_t v = t.vocab_size;
      // This target's rows, cut to its own vocabulary: (n, V_t) per pass, then guided.
      std::vector<float> cond(n * v), unc(step.guided() ? n * v : 0), guided(n * v);
      for (int64_t r = 0; r < n; ++r) {
        const float* c = logits.rows[0] + (start + r) * v_all;
        std::copy(c, c + v, cond.begin() + r * v);
        if (step.guided()) {
          const float* u = logits.rows[1] + (start + r) * v_all;
          std::copy(u, u + v, unc.begin() + r * v);
        }
      }
      start += n;
      GuideLogits(cond.data(), step.guided() ? unc.data() : nullptr, n * v, step.guidance_scale,
                  guided.data());
      std::vector<int64_t> tokens(n);
      std::vector<float> probs(n);
      if (Status r = ChooseTokens(guided.data(), n, v, e.temperature, t.top_k, t.top_p, rng,
                                  tokens.data(), probs.data());
          !r.ok()) {
        return r;
      }
      std::vector<int64_t> keep(n);
      std::iota(keep.begin(), keep.end(), 0);
      if (t.scheme == "maskgit") {
        std::stable_sort(keep.begin(), keep.end(),
                         [&probs](int64_t a, int64_t b) { return probs[a] > probs[b]; });
        keep.resize(std::min<int64_t>(e.num_tokens, n));
      }
      TokenState* st = FindState(states, t.name);
      for (int64_t k : keep) {
        st->ids[pos[k]] = tokens[k];
        st->known[pos[k]] = 1;
        st->probs[pos[k]] = probs[k];
      }
    }
    timers->sample.Add(NowUs() - t0);
    timers->steps[s].Add(NowUs() - t_step);
  }
  return Status::Ok();
}

}  // namespace egom2p
