"""The realism knobs of the synthetic generator, one frozen dataclass validated on creation."""

from __future__ import annotations

from dataclasses import asdict, dataclass

BEHAVIOURS = ("walk", "walk_stop", "look_around", "quick_turn", "table")

CLIP_DURATION_S = 2.0
TRAJ_RATE_HZ = 30  # camera poses and gaze: 60 samples per clip
VIDEO_FPS = 8  # video: 16 frames per clip
TRAJ_SAMPLES = 60
VIDEO_FRAMES = 16


@dataclass(frozen=True)
class SynthKnobs:
    """What varies between clips and how much.

    hfov_deg: range of the horizontal field of view (a wide egocentric camera).
    lighting_variation: 0 = one fixed neutral lighting for every room; 1 = lamp power, colour
        temperature, window light and exposure drawn over realistic ranges.
    max_exposure_ms: motion blur: each frame averages sub-frames spread over an exposure drawn in
        [0, max_exposure_ms] around the frame time (0 disables blur).
    blur_subframes: sub-frames per video frame when blurring (odd, so one sits at the frame time).
    noise_level: sensor noise scale (shot + read noise, 1 = a typical small glasses camera; 0 off).
    behaviour_weights: relative frequency of each head-motion behaviour, in BEHAVIOURS order.
    moving_object_prob: chance that a ball rolls through the room (smooth-pursuit target).
    blink_rate_hz: mean spontaneous blink rate (gaze marked invalid during a blink).
    max_head_rate_deg_s: peak head yaw rate of the quickest turns.
    walk_speed_m_s: range of walking speeds.
    """

    hfov_deg: tuple[float, float] = (70.0, 90.0)
    lighting_variation: float = 1.0
    max_exposure_ms: float = 16.0
    blur_subframes: int = 5
    noise_level: float = 1.0
    behaviour_weights: tuple[float, ...] = (0.25, 0.15, 0.2, 0.15, 0.25)
    moving_object_prob: float = 0.3
    blink_rate_hz: float = 0.3
    max_head_rate_deg_s: float = 200.0
    walk_speed_m_s: tuple[float, float] = (0.5, 1.5)

    def __post_init__(self) -> None:
        lo, hi = self.hfov_deg
        if not 30.0 <= lo <= hi <= 120.0:
            raise ValueError(
                f"SynthKnobs.hfov_deg must satisfy 30 <= lo <= hi <= 120, got {self.hfov_deg}"
            )
        if not 0.0 <= self.lighting_variation <= 1.0:
            raise ValueError(
                f"SynthKnobs.lighting_variation must be in [0, 1], got {self.lighting_variation}"
            )
        if not 0.0 <= self.max_exposure_ms <= 60.0:
            raise ValueError(
                f"SynthKnobs.max_exposure_ms must be in [0, 60] ms, got {self.max_exposure_ms}"
            )
        if self.blur_subframes < 1 or self.blur_subframes % 2 == 0:
            raise ValueError(
                "SynthKnobs.blur_subframes must be a positive odd number, "
                f"got {self.blur_subframes}"
            )
        if not 0.0 <= self.noise_level <= 10.0:
            raise ValueError(f"SynthKnobs.noise_level must be in [0, 10], got {self.noise_level}")
        w = self.behaviour_weights
        if len(w) != len(BEHAVIOURS) or min(w) < 0 or sum(w) <= 0:
            raise ValueError(
                f"SynthKnobs.behaviour_weights must be {len(BEHAVIOURS)} non-negative weights "
                f"(for {BEHAVIOURS}) with a positive sum, got {w}"
            )
        if not 0.0 <= self.moving_object_prob <= 1.0:
            raise ValueError(
                f"SynthKnobs.moving_object_prob must be in [0, 1], got {self.moving_object_prob}"
            )
        if not 0.0 <= self.blink_rate_hz <= 2.0:
            raise ValueError(
                f"SynthKnobs.blink_rate_hz must be in [0, 2], got {self.blink_rate_hz}"
            )
        if not 30.0 <= self.max_head_rate_deg_s <= 600.0:
            raise ValueError(
                "SynthKnobs.max_head_rate_deg_s must be in [30, 600] deg/s, "
                f"got {self.max_head_rate_deg_s}"
            )
        lo, hi = self.walk_speed_m_s
        if not 0.1 <= lo <= hi <= 3.0:
            raise ValueError(
                "SynthKnobs.walk_speed_m_s must satisfy 0.1 <= lo <= hi <= 3 m/s, "
                f"got {self.walk_speed_m_s}"
            )

    def as_meta(self) -> dict:
        """JSON-serialisable form (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def clean(cls) -> SynthKnobs:
        """No blur, no noise, fixed lighting: for tests that compare pixels with geometry."""
        return cls(lighting_variation=0.0, max_exposure_ms=0.0, blur_subframes=1, noise_level=0.0)
