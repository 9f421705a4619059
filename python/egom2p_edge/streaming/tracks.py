"""Continuous output: window predictions stitched into one camera trajectory and one gaze track.

Twin of ``cpp/src/stream_tracks.cc`` (same algorithm, same float64 operation order, so the C++
``Runtime`` and the Python ``ReferencePipeline`` give the same tracks). The algorithm:

- Stream samples. Sample ``n`` (0, 1, 2, ...) lies at ``timestamp_ns = origin + round(n * 1e9 /
  rate)`` (``rate`` = the trajectory rate, 30 Hz; ties round up), where ``origin`` is the grid
  time of window 0's first video sample. Window ``w`` starts ``w * hop * rate / fps`` samples in
  (a rational number: 15 at hop 4) and covers the stream samples within its ``T`` (60) samples;
  sample ``n`` is at window position ``u = n - w * hop * rate / fps``, exact in integers
  (``r = n * fps - w * hop * rate``: ``j = r // fps``, ``f = (r % fps) / fps``). A fractional
  position interpolates between samples ``j`` and ``j + 1`` (linear; poses: ``pose_math``).
- Confidence of window sample ``j``: the probability of its token ``j * K // T`` (K tokens per
  window; ``Prediction.token_probs``), per target (``tok_cam`` for poses, ``tok_gaze`` for gaze).
- Weight of a window at position ``u``: ``taper(u) * max(confidence(u), 1e-6)`` with ``taper(u) =
  4 x (1 - x)``, ``x = (u + 0.5) / T``: near 0 at the window's ends, 1 in its middle, so a window
  fades in and out and the merged tracks have no jump where windows begin or end.
- Anchoring (camera): window poses are relative to the window's first frame. When window ``w``
  arrives, its world anchor ``A_w`` is the weighted mean (``pose_math.weighted_mean``, reference
  the heaviest) over the already-merged samples it overlaps of ``M(n) * inverse(P_w(u_n))``
  (relative motion composed on the overlap), weighted by ``W(n) * weight_w(u_n)`` (``W(n)``: the
  merged sample's total weight). The first window anchors the world frame: ``A = inverse(
  P(u_first))``, so ``T_world_camera`` is the identity at the stream's first sample. A window
  that overlaps nothing (after a gap longer than a window) continues from the last merged pose.
- Merging: sample ``n`` is the weighted mean of the world poses ``A_v P_v(u)`` (reference: the
  oldest window) and of the gazes of every window covering it, in window order; its confidence is
  the taper-weighted mean of their confidences.
- Finality: a sample no future window can cover (before window ``w_last + 1``'s start) is final
  and never changes again; the later samples are provisional (revised by the next windows).
- Gaze in pixels: ``gaze_xy_px`` undoes the centre crop and the resize
  (``preprocess.crop_norm_to_gaze_px``, pixel centre offset 0) with the frame size of the newest
  window covering the sample.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from egom2p_edge.preprocess import crop_norm_to_gaze_px
from egom2p_edge.streaming import pose_math as pm

NS_PER_S = 1_000_000_000
MIN_CONFIDENCE = 1e-6
CAM, GAZE = "tok_cam", "tok_gaze"


@dataclass(frozen=True)
class TrackConfig:
    """rate_hz: trajectory samples per second (30); fps: video rate (8); hop_frames: window hop
    in video samples; samples: T per window (60); tokens: K per window (30); history_s: seconds of
    final samples kept (None: all)."""

    rate_hz: int = 30
    fps: int = 8
    hop_frames: int = 4
    samples: int = 60
    tokens: int = 30
    history_s: float | None = None

    def __post_init__(self) -> None:
        for k in ("rate_hz", "fps", "hop_frames", "samples", "tokens"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"TrackConfig.{k} must be an int >= 1, got {v!r}")
        h = self.history_s
        number = isinstance(h, (int, float, np.integer, np.floating)) and not isinstance(h, bool)
        if h is not None and not (number and math.isfinite(h) and h > 0):
            raise ValueError(
                f"TrackConfig.history_s must be None or a finite number of seconds > 0, got {h!r}"
            )

    @property
    def history_samples(self) -> int | None:
        return None if self.history_s is None else int(np.ceil(self.history_s * self.rate_hz))


@dataclass(frozen=True)
class Trajectory:
    """The stream's camera trajectory. timestamp_ns: Shape (N,) int64; T_world_camera: (N, 4, 4)
    float64 (world = the camera at the stream's first sample); confidence: (N,) float64 in
    [0, 1]; final: (N,) bool (False: may still change)."""

    timestamp_ns: np.ndarray
    T_world_camera: np.ndarray
    confidence: np.ndarray
    final: np.ndarray


@dataclass(frozen=True)
class GazeTrack:
    """The stream's gaze. gaze_xy_norm: (N, 2) float64 in the square crop ([0, 1], x right, y
    down); gaze_xy_px: (N, 2) float64 pixels of the caller's frames; the other fields as in
    ``Trajectory``."""

    timestamp_ns: np.ndarray
    gaze_xy_norm: np.ndarray
    gaze_xy_px: np.ndarray
    confidence: np.ndarray
    final: np.ndarray


@dataclass
class _WindowTrack:
    index: int
    n_first: int
    n_last: int
    cam: list | None  # per n - n_first: world pose
    cam_w: list  # weights
    cam_conf: list
    gaze: list | None  # (x, y)
    gaze_w: list
    gaze_conf: list
    taper: list
    image: tuple[int, int]  # (height, width)


@dataclass
class _Sample:
    n: int
    pose: pm.Pose | None = None
    cam_weight: float = 0.0
    cam_conf: float = 0.0
    gaze: tuple[float, float] | None = None
    gaze_conf: float = 0.0
    image: tuple[int, int] = (0, 0)
    final: bool = False


def _token_conf(probs: np.ndarray | None, t_samples: int, k_tokens: int) -> list[float]:
    if probs is None:
        return [1.0] * t_samples
    p = np.asarray(probs, dtype=np.float32).reshape(-1)
    k = min(k_tokens, p.size)
    return [float(p[min(k - 1, j * k // t_samples)]) for j in range(t_samples)]


class TrackBuilder:
    """Feeds window predictions (in window order), keeps the merged tracks."""

    def __init__(self, config: TrackConfig) -> None:
        self.config = config
        self.origin_ns: int | None = None
        self._windows: list[_WindowTrack] = []
        self._samples: list[_Sample] = []  # ascending n
        self._ns: list[int] = []  # the samples' n, for bisect

    # ----- geometry ---------------------------------------------------------------------------

    def _num(self, w: int) -> int:
        """Window w's start in stream samples, times fps (an integer)."""
        c = self.config
        return w * c.hop_frames * c.rate_hz

    def _n_range(self, w: int) -> tuple[int, int]:
        c = self.config
        num = self._num(w)
        return -(-num // c.fps), (num + (c.samples - 1) * c.fps) // c.fps

    def timestamp_ns(self, n: int) -> int:
        r = self.config.rate_hz
        return self.origin_ns + (2 * n * NS_PER_S + r) // (2 * r)

    # ----- adding a window ------------------------------------------------------------------

    def add(
        self,
        window_index: int,
        start_timestamp_ns: int,
        T_window_camera: np.ndarray | None,
        gaze_xy_norm: np.ndarray | None,
        token_probs: dict,
        image_size: tuple[int, int],
    ) -> None:
        """One window's outputs. T_window_camera: (T, 4, 4); gaze_xy_norm: (T, 2) (either may be
        None); token_probs: target -> (K,); image_size: (height, width) of its frames."""
        c = self.config
        if self.origin_ns is None:
            period = NS_PER_S // c.fps
            self.origin_ns = int(start_timestamp_ns) - window_index * c.hop_frames * period
        n_first, n_last = self._n_range(window_index)
        cam_conf = _token_conf(token_probs.get(CAM), c.samples, c.tokens)
        gaze_conf = _token_conf(token_probs.get(GAZE), c.samples, c.tokens)
        local = (
            None if T_window_camera is None else [pm.pose_from_matrix(m) for m in T_window_camera]
        )
        g = None if gaze_xy_norm is None else [(float(x), float(y)) for x, y in gaze_xy_norm]
        wt = _WindowTrack(window_index, n_first, n_last, None, [], [], None if g is None else [],
                          [], [], [], (int(image_size[0]), int(image_size[1])))  # fmt: skip
        poses = []
        for n in range(n_first, n_last + 1):
            r = n * c.fps - self._num(window_index)
            j, f = r // c.fps, (r % c.fps) / c.fps
            j1 = min(j + 1, c.samples - 1)
            x = (float(j) + f + 0.5) / c.samples
            taper = 4.0 * x * (1.0 - x)
            wt.taper.append(taper)
            cc = pm.lerp(cam_conf[j], cam_conf[j1], f) if f != 0.0 else cam_conf[j]
            gc = pm.lerp(gaze_conf[j], gaze_conf[j1], f) if f != 0.0 else gaze_conf[j]
            wt.cam_conf.append(cc)
            wt.gaze_conf.append(gc)
            wt.cam_w.append(taper * max(cc, MIN_CONFIDENCE))
            wt.gaze_w.append(taper * max(gc, MIN_CONFIDENCE))
            if local is not None:
                poses.append(pm.interpolate(local[j], local[j1], f))
            if g is not None:
                a, b = g[j], g[j1]
                wt.gaze.append(a if f == 0.0 else (pm.lerp(a[0], b[0], f), pm.lerp(a[1], b[1], f)))
        if local is not None:
            anchor = self._anchor(wt, poses)
            wt.cam = [pm.compose(anchor, p) for p in poses]
        self._windows.append(wt)
        self._merge(n_first, n_last)
        final_before = self._n_range(window_index + 1)[0]
        self._mark_final(final_before)
        self._windows = [v for v in self._windows if v.n_last >= final_before]

    def finish(self) -> None:
        """End of stream: every sample is final."""
        self._mark_final(None)
        self._windows = []

    def _anchor(self, wt: _WindowTrack, poses: list) -> pm.Pose:
        lo = bisect.bisect_left(self._ns, wt.n_first)
        cands, weights = [], []
        for s in self._samples[lo:]:
            if s.n > wt.n_last or s.pose is None:
                continue
            k = s.n - wt.n_first
            cands.append(pm.compose(s.pose, pm.inverse(poses[k])))
            weights.append(s.cam_weight * wt.cam_w[k])
        if cands:
            ref = int(np.argmax(np.array(weights)))  # the first of equal maxima
            return pm.weighted_mean(cands, weights, ref)
        last = next((s for s in reversed(self._samples) if s.pose is not None), None)
        start = pm.inverse(poses[0])
        return start if last is None else pm.compose(last.pose, start)

    def _merge(self, n_first: int, n_last: int) -> None:
        for n in range(n_first, n_last + 1):
            cover = [v for v in self._windows if v.n_first <= n <= v.n_last]
            s = _Sample(n)
            cam = [v for v in cover if v.cam is not None]
            if cam:
                k = [n - v.n_first for v in cam]
                ws = [v.cam_w[i] for v, i in zip(cam, k)]
                s.pose = pm.weighted_mean([v.cam[i] for v, i in zip(cam, k)], ws, 0)
                s.cam_weight = _sum(ws)
                s.cam_conf = _weighted([v.cam_conf[i] for v, i in zip(cam, k)],
                                       [v.taper[i] for v, i in zip(cam, k)])  # fmt: skip
            gz = [v for v in cover if v.gaze is not None]
            if gz:
                k = [n - v.n_first for v in gz]
                ws = [v.gaze_w[i] for v, i in zip(gz, k)]
                s.gaze = (
                    _weighted([v.gaze[i][0] for v, i in zip(gz, k)], ws),
                    _weighted([v.gaze[i][1] for v, i in zip(gz, k)], ws),
                )
                s.gaze_conf = _weighted([v.gaze_conf[i] for v, i in zip(gz, k)],
                                        [v.taper[i] for v, i in zip(gz, k)])  # fmt: skip
            s.image = cover[-1].image
            i = bisect.bisect_left(self._ns, n)
            if i < len(self._ns) and self._ns[i] == n:
                self._samples[i] = s
            else:
                self._samples.insert(i, s)
                self._ns.insert(i, n)

    def _mark_final(self, before: int | None) -> None:
        for s in reversed(self._samples):
            if before is not None and s.n >= before:
                continue
            if s.final:
                break
            s.final = True
        keep = self.config.history_samples
        if keep is not None:
            finals = sum(1 for s in self._samples if s.final)
            drop = max(finals - keep, 0)
            if drop:
                del self._samples[:drop]
                del self._ns[:drop]

    # ----- outputs --------------------------------------------------------------------------

    def _select(self, since_ns: int | None, attr: str) -> list[_Sample]:
        out = [s for s in self._samples if getattr(s, attr) is not None]
        if since_ns is not None:
            out = [s for s in out if self.timestamp_ns(s.n) >= since_ns]
        return out

    def trajectory(self, since_ns: int | None = None) -> Trajectory:
        sel = self._select(since_ns, "pose")
        mats = np.array([pm.pose_to_matrix(s.pose) for s in sel], dtype=np.float64)
        return Trajectory(
            timestamp_ns=np.array([self.timestamp_ns(s.n) for s in sel], dtype=np.int64),
            T_world_camera=mats.reshape(len(sel), 4, 4),
            confidence=np.array([s.cam_conf for s in sel], dtype=np.float64),
            final=np.array([s.final for s in sel], dtype=bool),
        )

    def gaze_track(self, since_ns: int | None = None) -> GazeTrack:
        sel = self._select(since_ns, "gaze")
        norm = np.array([s.gaze for s in sel], dtype=np.float64).reshape(len(sel), 2)
        px = np.zeros_like(norm)
        for i, s in enumerate(sel):
            px[i] = crop_norm_to_gaze_px(norm[i], s.image[0], s.image[1])
        return GazeTrack(
            timestamp_ns=np.array([self.timestamp_ns(s.n) for s in sel], dtype=np.int64),
            gaze_xy_norm=norm,
            gaze_xy_px=px,
            confidence=np.array([s.gaze_conf for s in sel], dtype=np.float64),
            final=np.array([s.final for s in sel], dtype=bool),
        )


def _sum(values: list[float]) -> float:
    total = 0.0
    for v in values:
        total = total + v
    return total


def _weighted(values: list[float], weights: list[float]) -> float:
    """sum(w v) / sum(w), accumulated in order."""
    acc, total = 0.0, 0.0
    for v, w in zip(values, weights):
        acc = acc + w * v
        total = total + w
    return acc / total
