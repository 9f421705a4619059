// egom2p-rt: runs a bundle on a video (y4m or rgb24 frames on a pipe or in a file) or on the
// ZeroMQ frame bus, and prints each window's prediction and, at the end, the throughput, the
// continuous tracks and the per-stage timings (p50 / p90 / p99).
//
//   ffmpeg -loglevel error -i clip.mp4 -f yuv4mpegpipe -pix_fmt yuv444p - | egom2p-rt BUNDLE
//   ffmpeg -loglevel error -i clip.mp4 -f rawvideo -pix_fmt rgb24 - | \
//       egom2p-rt BUNDLE --format rgb24 --size 640x480 --fps 30
//   egom2p-rt BUNDLE --zmq tcp://127.0.0.1:5555 --realtime     # frames from `egom2p` devices
//
// --streams N runs N streams on N threads over the same frames (one shared runtime) and checks
// that they all give the first stream's tokens (the thread-safety check of a deployment).
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "egom2p/backends.h"
#include "egom2p/preprocess.h"
#include "egom2p/runtime.h"
#include "rt_input.h"

namespace {

using egom2p_rt::Frame;

const char kUsage[] =
    "usage: egom2p-rt BUNDLE [--input FILE|-] [--format y4m|rgb24] [--size WxH] [--fps N]\n"
    "                 [--zmq ENDPOINT] [--max-frames N] [--mode official|joint|single_pass]\n"
    "                 [--hop N] [--seed N] [--steps N] [--temperature T] [--reuse-condition]\n"
    "                 [--threads N] [--backend onnxruntime|tensorrt]\n"
    "                 [--providers tensorrt,cuda,cpu] [--allow-fallback] [--device N]\n"
    "                 [--realtime] [--queue N] [--streams N] [--jsonl] [--quiet]\n";

struct Args {
  std::string bundle, input = "-", format = "y4m", zmq, mode = "joint", backend = "onnxruntime";
  int height = 0, width = 0, hop = 4, threads = 0, queue = 2, streams = 1, device = 0;
  double fps = 0.0;
  long long max_frames = -1;
  uint64_t seed = 0;
  std::optional<int> steps;
  std::optional<double> temperature;
  std::vector<std::string> providers = {"cpu"};
  bool allow_fallback = false, realtime = false, jsonl = false, quiet = false, reuse = false;
};

// Options by kind: a string value, an int value, or a switch.
const std::pair<const char*, std::string Args::*> kStringOptions[] = {
    {"--input", &Args::input}, {"--format", &Args::format},   {"--zmq", &Args::zmq},
    {"--mode", &Args::mode},   {"--backend", &Args::backend},
};
const std::pair<const char*, int Args::*> kIntOptions[] = {
    {"--hop", &Args::hop},         {"--threads", &Args::threads}, {"--queue", &Args::queue},
    {"--streams", &Args::streams}, {"--device", &Args::device},
};
const std::pair<const char*, bool Args::*> kSwitches[] = {
    {"--allow-fallback", &Args::allow_fallback},
    {"--realtime", &Args::realtime},
    {"--reuse-condition", &Args::reuse},
    {"--jsonl", &Args::jsonl},
    {"--quiet", &Args::quiet},
};

// The table entry named k, or null.
template <typename Table>
auto FindOption(const Table& table, const std::string& k) -> decltype(&table[0]) {
  for (const auto& entry : table) {
    if (k == entry.first) return &entry;
  }
  return nullptr;
}

bool ParseArgs(int argc, char** argv, Args* a, std::string* error) {
  std::vector<std::string> v(argv + 1, argv + argc);
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string& k = v[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= v.size()) {
        *error = k + " needs a value";
        return false;
      }
      *out = v[++i];
      return true;
    };
    std::string s;
    try {
      if (const auto* o = FindOption(kStringOptions, k); o && value(&(a->*(o->second)))) continue;
      if (const auto* o = FindOption(kIntOptions, k); o && value(&s)) {
        a->*(o->second) = std::stoi(s);
        continue;
      }
      if (k == "--size" && value(&s)) {
        if (std::sscanf(s.c_str(), "%dx%d", &a->width, &a->height) != 2) {
          *error = "--size must be WxH, got " + s;
          return false;
        }
        continue;
      }
      if (k == "--fps" && value(&s)) {
        a->fps = std::stod(s);
        continue;
      }
      if (k == "--max-frames" && value(&s)) {
        a->max_frames = std::stoll(s);
        continue;
      }
      if (k == "--seed" && value(&s)) {
        a->seed = std::stoull(s);
        continue;
      }
      if (k == "--steps" && value(&s)) {
        a->steps = std::stoi(s);
        continue;
      }
      if (k == "--temperature" && value(&s)) {
        a->temperature = std::stod(s);
        continue;
      }
      if (k == "--providers" && value(&s)) {
        a->providers.clear();
        for (size_t p = 0, q; p <= s.size(); p = q + 1) {
          q = std::min(s.find(',', p), s.size());
          a->providers.push_back(s.substr(p, q - p));
        }
        continue;
      }
    } catch (const std::exception&) {
      *error = k + " needs a number, got '" + s + "'";
      return false;
    }
    if (!error->empty()) return false;
    if (const auto* o = FindOption(kSwitches, k)) {
      a->*(o->second) = true;
      continue;
    }
    if (!k.empty() && k[0] == '-' && k != "-") {
      *error = "unknown option " + k;
      return false;
    }
    if (!a->bundle.empty()) {
      *error = "one bundle only, got " + a->bundle + " and " + k;
      return false;
    }
    a->bundle = k;
  }
  if (a->bundle.empty()) *error = "no bundle given";
  if (a->streams < 1) *error = "--streams must be >= 1";
  return error->empty();
}

std::string Num(double v) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.6g", v);
  return b;
}

// The window's last gaze point in pixels of its frames (NaN without gaze).
std::pair<double, double> LastGazePx(const egom2p::WindowPrediction& p) {
  if (p.gaze_xy_norm.empty()) return {NAN, NAN};
  const int t = p.trajectory_samples;
  const double norm[2] = {p.gaze_xy_norm[(t - 1) * 2], p.gaze_xy_norm[(t - 1) * 2 + 1]};
  double px[2] = {NAN, NAN};
  auto crop = egom2p::ComputeCropBox(p.image_height, p.image_width);
  if (crop.ok()) egom2p::CropNormToGazePx(norm, 1, crop.value(), 0.0, px);
  return {px[0], px[1]};
}

void PrintWindow(const egom2p::WindowPrediction& p, bool jsonl) {
  const int t = p.trajectory_samples;
  const auto [gx, gy] = LastGazePx(p);
  std::map<std::string, double> conf;
  for (const auto& tp : p.targets) {
    double s = 0;
    for (float x : tp.token_probs) s += x;
    conf[tp.name] = tp.token_probs.empty() ? 0.0 : s / tp.token_probs.size();
  }
  if (jsonl) {
    std::string j = "{\"window\": " + std::to_string(p.window_index) +
                    ", \"timestamp_ns\": " + std::to_string(p.timestamp_ns) +
                    ", \"missing_frames\": " + std::to_string(p.missing_frames) +
                    ", \"latency_ms\": " + Num(p.latency_us / 1e3);
    if (!p.gaze_xy_norm.empty()) j += ", \"gaze_xy_px\": [" + Num(gx) + ", " + Num(gy) + "]";
    if (!p.T_window_camera.empty()) {
      const float* m = &p.T_window_camera[(t - 1) * 16];
      j += ", \"camera_xyz\": [" + Num(m[3]) + ", " + Num(m[7]) + ", " + Num(m[11]) + "]";
    }
    j += ", \"tokens\": {";
    for (size_t i = 0; i < p.targets.size(); ++i) {
      j += (i ? ", \"" : "\"") + p.targets[i].name + "\": [";
      for (size_t k = 0; k < p.targets[i].tokens.size(); ++k) {
        j += (k ? ", " : "") + std::to_string(p.targets[i].tokens[k]);
      }
      j += "]";
    }
    j += "}, \"confidence\": {";
    size_t i = 0;
    for (const auto& [k, v] : conf) j += (i++ ? ", \"" : "\"") + k + "\": " + Num(v);
    std::printf("%s}}\n", j.c_str());
    return;
  }
  std::printf("window %4lld  t=%9.3f s", static_cast<long long>(p.window_index),
              p.timestamp_ns * 1e-9);
  if (!p.gaze_xy_norm.empty()) std::printf("  gaze_px=(%7.1f, %7.1f)", gx, gy);
  if (!p.T_window_camera.empty()) {
    const float* m = &p.T_window_camera[(t - 1) * 16];
    std::printf("  cam_xyz=(%6.3f, %6.3f, %6.3f) m", m[3], m[7], m[11]);
  }
  for (const auto& [k, v] : conf) std::printf("  %s=%.2f", k.c_str(), v);
  std::printf("  latency=%.1f ms\n", p.latency_us / 1e3);
}

void PrintTimings(const egom2p::StreamTimings& t, const egom2p::LiveStats* live, bool jsonl,
                  double input_s, double wall_s, size_t frames, size_t windows, size_t trajectory,
                  size_t gaze) {
  std::vector<std::pair<std::string, const egom2p::StageTimer*>> rows = {
      {"preprocess", &t.preprocess}, {"tokenize", &t.tokenize}, {"encode", &t.encode},
      {"decode", &t.decode},         {"sample", &t.sample},     {"detokenize", &t.detokenize},
      {"window", &t.window}};
  for (size_t s = 0; s < t.steps.size(); ++s)
    rows.push_back({"step_" + std::to_string(s), &t.steps[s]});
  rows.push_back({"latency", &t.latency});
  const double per_s = input_s > 0 ? wall_s / input_s : 0.0;
  if (jsonl) {
    std::string j = "{\"summary\": {\"frames\": " + std::to_string(frames) +
                    ", \"windows\": " + std::to_string(windows) + ", \"input_s\": " + Num(input_s) +
                    ", \"wall_s\": " + Num(wall_s) +
                    ", \"processing_s_per_input_s\": " + Num(per_s) +
                    ", \"trajectory_samples\": " + std::to_string(trajectory) +
                    ", \"gaze_samples\": " + std::to_string(gaze);
    if (live) {
      j += ", \"windows_dropped\": " + std::to_string(live->windows_dropped) +
           ", \"windows_done\": " + std::to_string(live->windows_done);
    }
    j += ", \"timings_ms\": {";
    for (size_t i = 0; i < rows.size(); ++i) {
      const egom2p::StageTimer& s = *rows[i].second;
      j += (i ? ", \"" : "\"") + rows[i].first + "\": {\"count\": " + std::to_string(s.count) +
           ", \"p50\": " + Num(s.Percentile(50) / 1e3) +
           ", \"p90\": " + Num(s.Percentile(90) / 1e3) +
           ", \"p99\": " + Num(s.Percentile(99) / 1e3) + "}";
    }
    std::printf("%s}}}\n", j.c_str());
    return;
  }
  std::printf("\n%zu frames (%.2f s of input), %zu windows in %.2f s: %.3f s per second of input\n",
              frames, input_s, windows, wall_s, per_s);
  std::printf("tracks: %zu poses, %zu gaze samples at 30 Hz\n", trajectory, gaze);
  if (live) {
    std::printf("live: %lld windows done, %lld dropped (queue %d)\n",
                static_cast<long long>(live->windows_done),
                static_cast<long long>(live->windows_dropped), live->queue_windows);
  }
  std::printf("%-12s %7s %10s %10s %10s %10s\n", "stage", "count", "mean ms", "p50 ms", "p90 ms",
              "p99 ms");
  for (const auto& [name, s] : rows) {
    if (s->count == 0) continue;
    std::printf("%-12s %7lld %10.2f %10.2f %10.2f %10.2f\n", name.c_str(),
                static_cast<long long>(s->count), s->total_us / 1e3 / s->count,
                s->Percentile(50) / 1e3, s->Percentile(90) / 1e3, s->Percentile(99) / 1e3);
  }
}

int Fail(const egom2p::Status& s) {
  std::fprintf(stderr, "egom2p-rt: %s\n", s.ToString().c_str());
  return 1;
}

egom2p::StreamOptions MakeStreamOptions(const Args& a) {
  egom2p::StreamOptions o;
  o.mode = a.mode;
  o.hop_frames = a.hop;
  o.seed = a.seed;
  o.steps = a.steps;
  o.temperature = a.temperature;
  o.reuse_condition = a.reuse;
  return o;
}

// --streams N: N streams on N threads over the same frames; all must give stream 0's tokens.
int RunParallel(const egom2p::Runtime& rt, const Args& a, const std::vector<Frame>& frames) {
  std::vector<std::vector<egom2p::WindowPrediction>> results(a.streams);
  std::vector<egom2p::Status> errors(a.streams);
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < a.streams; ++i) {
    threads.emplace_back([&, i] {
      auto s = rt.CreateStream(MakeStreamOptions(a));
      if (!s.ok()) {
        errors[i] = s.status();
        return;
      }
      std::vector<egom2p::WindowPrediction> out;
      for (const Frame& f : frames) {
        errors[i] = s.value()->Push(f.rgb.data(), f.height, f.width, f.timestamp_ns, &out);
        if (!errors[i].ok()) return;
        results[i].insert(results[i].end(), out.begin(), out.end());
      }
      errors[i] = s.value()->Flush(&out);
      results[i].insert(results[i].end(), out.begin(), out.end());
    });
  }
  for (auto& t : threads) t.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& e : errors) {
    if (!e.ok()) return Fail(e);
  }
  int differ = 0;
  for (int i = 1; i < a.streams; ++i) {
    bool same = results[i].size() == results[0].size();
    for (size_t w = 0; same && w < results[0].size(); ++w) {
      for (size_t k = 0; same && k < results[0][w].targets.size(); ++k) {
        same = results[i][w].targets[k].tokens == results[0][w].targets[k].tokens &&
               results[i][w].gaze_xy_norm == results[0][w].gaze_xy_norm &&
               results[i][w].T_window_camera == results[0][w].T_window_camera;
      }
    }
    differ += same ? 0 : 1;
  }
  if (!a.quiet) {
    for (const auto& p : results[0]) PrintWindow(p, a.jsonl);
  }
  if (a.jsonl) {
    std::printf(
        "{\"streams\": %d, \"windows_per_stream\": %zu, \"wall_s\": %s, \"identical\": %s}\n",
        a.streams, results[0].size(), Num(wall).c_str(), differ ? "false" : "true");
  } else {
    std::printf("%d streams x %zu windows in %.2f s on %d threads: identical to stream 0: %s\n",
                a.streams, results[0].size(), wall, a.streams, differ ? "no" : "yes");
  }
  return differ ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  std::string error;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fprintf(argc < 2 ? stderr : stdout, "%s", kUsage);
    return argc < 2 ? 2 : 0;
  }
  if (!ParseArgs(argc, argv, &a, &error)) {
    std::fprintf(stderr, "egom2p-rt: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  egom2p::RuntimeOptions ro;
  ro.backend = a.backend;
  ro.threads = a.threads;
  ro.providers = a.providers;
  ro.allow_fallback = a.allow_fallback;
  ro.device_id = a.device;
  auto rt = egom2p::Runtime::Load(a.bundle, ro);
  if (!rt.ok()) return Fail(rt.status());
  auto source = a.zmq.empty()
                    ? egom2p_rt::PipeSource::Open(a.input, a.format, a.height, a.width, a.fps)
                    : egom2p_rt::BusSource::Open(a.zmq, 10000);
  if (!source.ok()) return Fail(source.status());

  if (a.streams > 1) {
    std::vector<Frame> frames;
    Frame f;
    for (;;) {
      if (a.max_frames >= 0 && static_cast<long long>(frames.size()) >= a.max_frames) break;
      auto got = source.value()->Next(&f);
      if (!got.ok()) return Fail(got.status());
      if (!got.value()) break;
      frames.push_back(f);
    }
    return RunParallel(*rt.value(), a, frames);
  }

  std::unique_ptr<egom2p::Stream> stream;
  std::unique_ptr<egom2p::LiveStream> live;
  if (a.realtime) {
    egom2p::LiveOptions lo;
    lo.queue_windows = a.queue;
    auto s = rt.value()->CreateLiveStream(MakeStreamOptions(a), lo);
    if (!s.ok()) return Fail(s.status());
    live = std::move(s.value());
  } else {
    auto s = rt.value()->CreateStream(MakeStreamOptions(a));
    if (!s.ok()) return Fail(s.status());
    stream = std::move(s.value());
  }
  std::vector<egom2p::WindowPrediction> out;
  size_t frames = 0, windows = 0;
  int64_t first_ns = 0, last_ns = 0;
  Frame f;
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    if (a.max_frames >= 0 && static_cast<long long>(frames) >= a.max_frames) break;
    auto got = source.value()->Next(&f);
    if (!got.ok()) return Fail(got.status());
    if (!got.value()) break;
    if (frames++ == 0) first_ns = f.timestamp_ns;
    last_ns = f.timestamp_ns;
    egom2p::Status s = live ? live->Push(f.rgb.data(), f.height, f.width, f.timestamp_ns, &out)
                            : stream->Push(f.rgb.data(), f.height, f.width, f.timestamp_ns, &out);
    if (!s.ok()) return Fail(s);
    windows += out.size();
    if (!a.quiet) {
      for (const auto& p : out) PrintWindow(p, a.jsonl);
    }
  }
  egom2p::Status s = live ? live->Flush(&out) : stream->Flush(&out);
  if (!s.ok()) return Fail(s);
  windows += out.size();
  if (!a.quiet) {
    for (const auto& p : out) PrintWindow(p, a.jsonl);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const egom2p::Stream& st = live ? live->stream() : *stream;
  egom2p::Trajectory trajectory;
  egom2p::GazeTrack gaze;
  st.GetTrajectory(INT64_MIN, &trajectory);
  st.GetGazeTrack(INT64_MIN, &gaze);
  const double input_s = frames > 1 ? (last_ns - first_ns) * 1e-9 : 0.0;
  egom2p::LiveStats stats;
  if (live) stats = live->stats();
  PrintTimings(st.timings(), live ? &stats : nullptr, a.jsonl, input_s, wall, frames, windows,
               trajectory.size(), gaze.size());
  return 0;
}
