// Continuous tracks from window predictions (twin of python/egom2p_edge/streaming/tracks.py:
// the same loops, the same float64 operation order).
#include "egom2p/stream_tracks.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "egom2p/preprocess.h"
#include "egom2p/runtime.h"
#include "stream_pose_math.h"

namespace egom2p {
namespace {

namespace pm = pose_math;

constexpr int64_t kNsPerS = 1000000000;
constexpr double kMinConfidence = 1e-6;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

// Per window sample j: the probability of its token (1 when the target was not decoded).
std::vector<double> TokenConfidence(const WindowPrediction& p, const char* target, int t_samples,
                                    int k_tokens) {
  std::vector<double> out(t_samples, 1.0);
  for (const TargetPrediction& t : p.targets) {
    if (t.name != target || t.token_probs.empty()) continue;
    const int64_t k = std::min<int64_t>(k_tokens, static_cast<int64_t>(t.token_probs.size()));
    for (int j = 0; j < t_samples; ++j) {
      out[j] = static_cast<double>(t.token_probs[std::min<int64_t>(k - 1, j * k / t_samples)]);
    }
  }
  return out;
}

double Sum(const std::vector<double>& v) {
  double total = 0.0;
  for (double x : v) total = total + x;
  return total;
}

double Weighted(const std::vector<double>& values, const std::vector<double>& weights) {
  double acc = 0.0, total = 0.0;
  for (size_t i = 0; i < values.size(); ++i) {
    acc = acc + weights[i] * values[i];
    total = total + weights[i];
  }
  return acc / total;
}

struct WindowTrack {
  int64_t index = 0;
  int64_t n_first = 0;
  int64_t n_last = 0;
  bool has_cam = false;
  bool has_gaze = false;
  std::vector<pm::Pose> cam;  // per n - n_first, world poses
  std::vector<double> cam_w, cam_conf, gaze_x, gaze_y, gaze_w, gaze_conf, taper;
  int height = 0;
  int width = 0;
};

struct Sample {
  int64_t n = 0;
  bool has_pose = false;
  pm::Pose pose;
  double cam_weight = 0.0;
  double cam_conf = 0.0;
  bool has_gaze = false;
  double gaze_x = 0.0;
  double gaze_y = 0.0;
  double gaze_conf = 0.0;
  int height = 0;
  int width = 0;
  bool final = false;
};

}  // namespace

Status TrackConfig::Validate() const {
  if (rate_hz < 1 || fps < 1 || hop_frames < 1 || samples < 1 || tokens < 1) {
    return Status(StatusCode::kInvalidArgument,
                  "TrackConfig: rate_hz, fps, hop_frames, samples and tokens must be >= 1");
  }
  if (!(history_s >= 0.0) || !std::isfinite(history_s)) {
    return Status(
        StatusCode::kInvalidArgument,
        "history_s must be >= 0 seconds (0 = keep every sample), got " + std::to_string(history_s));
  }
  return Status::Ok();
}

struct TrackBuilder::State {
  TrackConfig config;
  bool has_origin = false;
  int64_t origin_ns = 0;
  std::vector<WindowTrack> windows;
  std::deque<Sample> samples;  // ascending n

  int64_t Num(int64_t w) const { return w * config.hop_frames * config.rate_hz; }
  int64_t NFirst(int64_t w) const { return CeilDiv(Num(w), config.fps); }
  int64_t NLast(int64_t w) const {
    return FloorDiv(Num(w) + static_cast<int64_t>(config.samples - 1) * config.fps, config.fps);
  }
  int64_t Timestamp(int64_t n) const {
    const int64_t r = config.rate_hz;
    return origin_ns + FloorDiv(2 * n * kNsPerS + r, 2 * r);
  }
  size_t LowerBound(int64_t n) const {
    return static_cast<size_t>(
        std::lower_bound(samples.begin(), samples.end(), n,
                         [](const Sample& s, int64_t v) { return s.n < v; }) -
        samples.begin());
  }

  pm::Pose Anchor(const WindowTrack& wt, const std::vector<pm::Pose>& poses) const {
    std::vector<pm::Pose> cands;
    std::vector<double> weights;
    for (size_t i = LowerBound(wt.n_first); i < samples.size(); ++i) {
      const Sample& s = samples[i];
      if (s.n > wt.n_last || !s.has_pose) continue;
      const size_t k = static_cast<size_t>(s.n - wt.n_first);
      cands.push_back(pm::Compose(s.pose, pm::Inverse(poses[k])));
      weights.push_back(s.cam_weight * wt.cam_w[k]);
    }
    if (!cands.empty()) {
      size_t ref = 0;
      for (size_t i = 1; i < weights.size(); ++i) {
        if (weights[i] > weights[ref]) ref = i;
      }
      return pm::WeightedMean(cands, weights, ref);
    }
    const pm::Pose start = pm::Inverse(poses[0]);
    for (auto it = samples.rbegin(); it != samples.rend(); ++it) {
      if (it->has_pose) return pm::Compose(it->pose, start);
    }
    return start;
  }

  void Merge(int64_t n_first, int64_t n_last) {
    for (int64_t n = n_first; n <= n_last; ++n) {
      Sample s;
      s.n = n;
      std::vector<pm::Pose> poses;
      std::vector<double> cw, cc, ct, gx, gy, gw, gc, gt;
      const WindowTrack* newest = nullptr;
      for (const WindowTrack& v : windows) {
        if (n < v.n_first || n > v.n_last) continue;
        const size_t k = static_cast<size_t>(n - v.n_first);
        newest = &v;
        if (v.has_cam) {
          poses.push_back(v.cam[k]);
          cw.push_back(v.cam_w[k]);
          cc.push_back(v.cam_conf[k]);
          ct.push_back(v.taper[k]);
        }
        if (v.has_gaze) {
          gx.push_back(v.gaze_x[k]);
          gy.push_back(v.gaze_y[k]);
          gw.push_back(v.gaze_w[k]);
          gc.push_back(v.gaze_conf[k]);
          gt.push_back(v.taper[k]);
        }
      }
      if (!poses.empty()) {
        s.has_pose = true;
        s.pose = pm::WeightedMean(poses, cw, 0);
        s.cam_weight = Sum(cw);
        s.cam_conf = Weighted(cc, ct);
      }
      if (!gx.empty()) {
        s.has_gaze = true;
        s.gaze_x = Weighted(gx, gw);
        s.gaze_y = Weighted(gy, gw);
        s.gaze_conf = Weighted(gc, gt);
      }
      s.height = newest->height;
      s.width = newest->width;
      const size_t i = LowerBound(n);
      if (i < samples.size() && samples[i].n == n) {
        samples[i] = s;
      } else {
        samples.insert(samples.begin() + static_cast<std::ptrdiff_t>(i), s);
      }
    }
  }

  void MarkFinal(std::optional<int64_t> before) {
    for (auto it = samples.rbegin(); it != samples.rend(); ++it) {
      if (before && it->n >= *before) continue;
      if (it->final) break;
      it->final = true;
    }
    if (config.history_s > 0.0) {
      const int64_t keep = static_cast<int64_t>(std::ceil(config.history_s * config.rate_hz));
      int64_t finals = 0;
      for (const Sample& s : samples) finals += s.final ? 1 : 0;
      for (int64_t drop = std::max<int64_t>(finals - keep, 0); drop > 0; --drop) {
        samples.pop_front();
      }
    }
  }
};

TrackBuilder::TrackBuilder(const TrackConfig& config) : state_(std::make_unique<State>()) {
  state_->config = config;
}
TrackBuilder::~TrackBuilder() = default;
TrackBuilder::TrackBuilder(TrackBuilder&&) noexcept = default;
TrackBuilder& TrackBuilder::operator=(TrackBuilder&&) noexcept = default;

void TrackBuilder::Add(const WindowPrediction& p) {
  State& st = *state_;
  const TrackConfig& c = st.config;
  const int64_t w = p.window_index;
  if (!st.has_origin) {
    st.has_origin = true;
    const int64_t period = kNsPerS / c.fps;
    st.origin_ns = p.start_timestamp_ns - w * c.hop_frames * period;
  }
  WindowTrack wt;
  wt.index = w;
  wt.n_first = st.NFirst(w);
  wt.n_last = st.NLast(w);
  wt.height = p.image_height;
  wt.width = p.image_width;
  const int T = c.samples;
  const bool has_cam = static_cast<int>(p.T_window_camera.size()) == T * 16;
  const bool has_gaze = static_cast<int>(p.gaze_xy_norm.size()) == T * 2;
  const std::vector<double> cam_conf = TokenConfidence(p, "tok_cam", T, c.tokens);
  const std::vector<double> gaze_conf = TokenConfidence(p, "tok_gaze", T, c.tokens);
  std::vector<pm::Pose> local;
  if (has_cam) {
    for (int j = 0; j < T; ++j) local.push_back(pm::PoseFromMatrix(&p.T_window_camera[j * 16]));
  }
  std::vector<pm::Pose> poses;
  for (int64_t n = wt.n_first; n <= wt.n_last; ++n) {
    const int64_t r = n * c.fps - st.Num(w);
    const int64_t j = FloorDiv(r, c.fps);
    const double f = static_cast<double>(r - j * c.fps) / c.fps;
    const int64_t j1 = std::min<int64_t>(j + 1, T - 1);
    const double x = (static_cast<double>(j) + f + 0.5) / T;
    const double taper = 4.0 * x * (1.0 - x);
    wt.taper.push_back(taper);
    const double cc = f != 0.0 ? pm::Lerp(cam_conf[j], cam_conf[j1], f) : cam_conf[j];
    const double gc = f != 0.0 ? pm::Lerp(gaze_conf[j], gaze_conf[j1], f) : gaze_conf[j];
    wt.cam_conf.push_back(cc);
    wt.gaze_conf.push_back(gc);
    wt.cam_w.push_back(taper * std::max(cc, kMinConfidence));
    wt.gaze_w.push_back(taper * std::max(gc, kMinConfidence));
    if (has_cam) poses.push_back(pm::Interpolate(local[j], local[j1], f));
    if (has_gaze) {
      const double ax = p.gaze_xy_norm[j * 2], ay = p.gaze_xy_norm[j * 2 + 1];
      const double bx = p.gaze_xy_norm[j1 * 2], by = p.gaze_xy_norm[j1 * 2 + 1];
      wt.gaze_x.push_back(f == 0.0 ? ax : pm::Lerp(ax, bx, f));
      wt.gaze_y.push_back(f == 0.0 ? ay : pm::Lerp(ay, by, f));
    }
  }
  wt.has_cam = has_cam;
  wt.has_gaze = has_gaze;
  if (has_cam) {
    const pm::Pose anchor = st.Anchor(wt, poses);
    for (const pm::Pose& q : poses) wt.cam.push_back(pm::Compose(anchor, q));
  }
  const int64_t n_first = wt.n_first, n_last = wt.n_last;
  st.windows.push_back(std::move(wt));
  st.Merge(n_first, n_last);
  const int64_t final_before = st.NFirst(w + 1);
  st.MarkFinal(final_before);
  st.windows.erase(std::remove_if(st.windows.begin(), st.windows.end(),
                                  [&](const WindowTrack& v) { return v.n_last < final_before; }),
                   st.windows.end());
}

void TrackBuilder::Finish() {
  state_->MarkFinal(std::nullopt);
  state_->windows.clear();
}

void TrackBuilder::GetTrajectory(int64_t since_ns, Trajectory* out) const {
  *out = Trajectory();
  for (const Sample& s : state_->samples) {
    if (!s.has_pose) continue;
    const int64_t t = state_->Timestamp(s.n);
    if (t < since_ns) continue;
    out->timestamp_ns.push_back(t);
    double m[16];
    pm::PoseToMatrix(s.pose, m);
    out->T_world_camera.insert(out->T_world_camera.end(), m, m + 16);
    out->confidence.push_back(s.cam_conf);
    out->final.push_back(s.final ? 1 : 0);
  }
}

void TrackBuilder::GetGazeTrack(int64_t since_ns, GazeTrack* out) const {
  *out = GazeTrack();
  for (const Sample& s : state_->samples) {
    if (!s.has_gaze) continue;
    const int64_t t = state_->Timestamp(s.n);
    if (t < since_ns) continue;
    out->timestamp_ns.push_back(t);
    const double norm[2] = {s.gaze_x, s.gaze_y};
    double px[2] = {std::nan(""), std::nan("")};
    Result<CropBox> crop = ComputeCropBox(s.height, s.width);
    if (crop.ok()) CropNormToGazePx(norm, 1, crop.value(), 0.0, px);
    out->gaze_xy_norm.insert(out->gaze_xy_norm.end(), norm, norm + 2);
    out->gaze_xy_px.insert(out->gaze_xy_px.end(), px, px + 2);
    out->confidence.push_back(s.gaze_conf);
    out->final.push_back(s.final ? 1 : 0);
  }
}

}  // namespace egom2p
