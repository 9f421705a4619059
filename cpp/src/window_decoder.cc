// One window's decoding with the backbone engines (twin of
// python/egom2p_edge/pipeline/decoder.py).
#include "egom2p/window_decoder.h"

#include <algorithm>
#include <chrono>
#include <numeric>

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

SlotRow GatherSlots(const std::vector<TokenState>& states,
                    const std::vector<std::string>& emptied) {
  std::vector<const TokenState*> ordered;
  for (const auto& s : states) ordered.push_back(&s);
  std::stable_sort(ordered.begin(), ordered.end(), [](const TokenState* a, const TokenState* b) {
    return a->modality_index < b->modality_index;
  });
  SlotRow row;
  for (const TokenState* s : ordered) {
    if (std::find(emptied.begin(), emptied.end(), s->name) != emptied.end()) continue;
    for (size_t p = 0; p < s->known.size(); ++p) {
      if (!s->known[p]) continue;
      row.ids.push_back(s->ids[p]);
      row.modality.push_back(s->modality_index);
      row.positions.push_back(static_cast<int64_t>(p));
    }
  }
  return row;
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

}  // namespace

Status WindowDecoder::Decode(const ResolvedDecoding& decoding, const std::vector<PlanStep>& plan,
                             PortableRng* rng, std::vector<TokenState>* states,
                             StreamTimings* timers) {
  StreamTimings scratch;
  if (timers == nullptr) timers = &scratch;
  for (const auto& t : decoding.targets) {
    if (FindState(states, t.name) == nullptr) {
      return Status(StatusCode::kInvalidArgument, "WindowDecoder: no state for " + t.name);
    }
  }
  for (size_t s = 0; s < plan.size(); ++s) {
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
    std::vector<SlotRow> rows = {GatherSlots(*states, {})};
    if (step.guided()) rows.push_back(GatherSlots(*states, step.emptied));
    const int64_t b = static_cast<int64_t>(rows.size());

    int64_t t0 = NowUs();
    std::vector<Tensor> enc_in = EncoderFeeds(rows);
    std::vector<Tensor> enc_out;
    if (Status r = encoder_->Run(enc_in, &enc_out); !r.ok()) return r;
    timers->encode.Add(NowUs() - t0);

    t0 = NowUs();
    int64_t m = 0;
    for (const auto& p : positions) m += static_cast<int64_t>(p.size());
    Tensor tm = Tensor::Zeros(bn::kTargetModality, DType::kInt64, {b, m});
    Tensor tp = Tensor::Zeros(bn::kTargetPositions, DType::kInt64, {b, m});
    for (int64_t row = 0; row < b; ++row) {
      int64_t q = 0;
      for (size_t i = 0; i < step.entries.size(); ++i) {
        const int modality = decoding.targets[step.entries[i].target].modality_index;
        for (int64_t p : positions[i]) {
          tm.Data<int64_t>()[row * m + q] = modality;
          tp.Data<int64_t>()[row * m + q] = p;
          ++q;
        }
      }
    }
    Tensor valid = enc_in[3];
    valid.name = bn::kContextValid;
    std::vector<Tensor> dec_in;
    dec_in.push_back(std::move(enc_out[0]));
    dec_in.push_back(std::move(valid));
    dec_in.push_back(std::move(tm));
    dec_in.push_back(std::move(tp));
    std::vector<Tensor> dec_out;
    if (Status r = decoder_->Run(dec_in, &dec_out); !r.ok()) return r;
    timers->decode.Add(NowUs() - t0);

    t0 = NowUs();
    const Tensor& logits = dec_out[0];  // (B, M, V)
    const int64_t v_all = logits.shape[2];
    int64_t start = 0;
    for (size_t i = 0; i < step.entries.size(); ++i) {
      const PlanEntry& e = step.entries[i];
      const TargetDecoding& t = decoding.targets[e.target];
      std::vector<int64_t>& pos = positions[i];
      const int64_t n = static_cast<int64_t>(pos.size());
      const int64_t v = t.vocab_size;
      // This target's rows, cut to its own vocabulary: (n, V_t) per pass, then guided.
      std::vector<float> cond(n * v), uncond(step.guided() ? n * v : 0), guided(n * v);
      for (int64_t r = 0; r < n; ++r) {
        const float* c = logits.Data<float>() + (start + r) * v_all;
        std::copy(c, c + v, cond.begin() + r * v);
        if (step.guided()) {
          const float* u = logits.Data<float>() + (m + start + r) * v_all;
          std::copy(u, u + v, uncond.begin() + r * v);
        }
      }
      start += n;
      GuideLogits(cond.data(), step.guided() ? uncond.data() : nullptr, n * v, step.guidance_scale,
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
  }
  return Status::Ok();
}

}  // namespace egom2p
