// LiveStream: the input side in the caller's thread, the windows on one worker thread behind a
// bounded queue that drops the oldest waiting window when full (twin of
// python/egom2p_edge/streaming/live.py, whose docstring explains why whole windows are dropped).
#include <condition_variable>
#include <deque>
#include <thread>
#include <utility>

#include "egom2p/runtime.h"
#include "stream_impl.h"

namespace egom2p {

struct LiveImpl {
  std::unique_ptr<Stream> stream;
  LiveOptions options;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<VideoWindow, int64_t>> queue;  // (window, arrival_us)
  std::vector<WindowPrediction> ready;
  bool busy = false;
  bool stop = false;
  Status error;
  int64_t submitted = 0;
  int64_t dropped = 0;
  int64_t done = 0;
  std::thread worker;

  void Submit(std::vector<VideoWindow>* windows, int64_t arrival_us) {
    std::lock_guard<std::mutex> lock(mu);
    for (VideoWindow& w : *windows) {
      ++submitted;
      if (static_cast<int>(queue.size()) >= options.queue_windows) {
        queue.pop_front();
        ++dropped;
      }
      queue.emplace_back(std::move(w), arrival_us);
    }
    cv.notify_all();
  }

  // Moves the ready predictions to out; the worker's error, if any.
  Status Take(std::vector<WindowPrediction>* out) {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& p : ready) out->push_back(std::move(p));
    ready.clear();
    if (!error.ok()) {
      return Status(error.code(), "live stream: the worker failed: " + error.message());
    }
    return Status::Ok();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    if (worker.joinable()) worker.join();
  }

  void Loop() {
    for (;;) {
      std::pair<VideoWindow, int64_t> item;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [this] { return stop || !queue.empty(); });
        if (stop) return;
        item = std::move(queue.front());
        queue.pop_front();
        busy = true;
      }
      WindowPrediction p;
      Status s = stream->impl_->Predict(item.first, item.second, &p);
      {
        std::lock_guard<std::mutex> lock(mu);
        busy = false;
        if (s.ok()) {
          ready.push_back(std::move(p));
          ++done;
        } else if (error.ok()) {
          error = s;
        }
      }
      cv.notify_all();
    }
  }
};

LiveStream::LiveStream(std::unique_ptr<LiveImpl> impl) : impl_(std::move(impl)) {}

LiveStream::~LiveStream() { impl_->Stop(); }

Status LiveStream::Push(const uint8_t* rgb, int height, int width, int64_t timestamp_ns,
                        std::vector<WindowPrediction>* ready) {
  if (ready == nullptr) return Status(StatusCode::kInvalidArgument, "push: ready is null");
  ready->clear();
  StreamImpl& s = *impl_->stream->impl_;
  if (s.finished) {
    return Status(StatusCode::kFailedPrecondition,
                  "push: the stream was flushed; create a new stream for new frames");
  }
  const int64_t arrival = SteadyNowUs();
  std::vector<VideoWindow> windows;
  if (Status st = s.Assemble(rgb, height, width, timestamp_ns, &windows); !st.ok()) return st;
  impl_->Submit(&windows, arrival);
  return impl_->Take(ready);
}

Status LiveStream::Flush(std::vector<WindowPrediction>* out) {
  if (out == nullptr) return Status(StatusCode::kInvalidArgument, "flush: out is null");
  out->clear();
  StreamImpl& s = *impl_->stream->impl_;
  if (s.finished) return Status::Ok();
  s.finished = true;
  const int64_t arrival = SteadyNowUs();
  std::vector<VideoWindow> windows;
  Status finish = s.Finish(&windows);
  impl_->Submit(&windows, arrival);
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->cv.wait(lock,
                   [this] { return (impl_->queue.empty() && !impl_->busy) || !impl_->error.ok(); });
  }
  impl_->Stop();
  Status taken = impl_->Take(out);
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.tracks->Finish();
  }
  return !finish.ok() ? finish : taken;
}

LiveStats LiveStream::stats() const {
  LiveStats st;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    st.queue_windows = impl_->options.queue_windows;
    st.windows_submitted = impl_->submitted;
    st.windows_dropped = impl_->dropped;
    st.windows_done = impl_->done;
    st.windows_waiting = static_cast<int64_t>(impl_->queue.size()) + (impl_->busy ? 1 : 0);
  }
  st.latency = impl_->stream->timings().latency;
  return st;
}

const Stream& LiveStream::stream() const { return *impl_->stream; }

Result<std::unique_ptr<LiveStream>> Runtime::CreateLiveStream(const StreamOptions& options,
                                                              const LiveOptions& live) const {
  if (live.queue_windows < 1) {
    return Status(StatusCode::kInvalidArgument,
                  "stream: queue_windows must be >= 1, got " + std::to_string(live.queue_windows));
  }
  Result<std::unique_ptr<Stream>> stream = CreateStream(options);
  if (!stream.ok()) return stream.status();
  auto impl = std::make_unique<LiveImpl>();
  impl->stream = std::move(stream.value());
  impl->options = live;
  LiveImpl* raw = impl.get();
  impl->worker = std::thread([raw] { raw->Loop(); });
  return std::unique_ptr<LiveStream>(new LiveStream(std::move(impl)));
}

}  // namespace egom2p
