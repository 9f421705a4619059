"""Quintic Hermite splines: smooth (C2) functions of time given values, rates and accelerations.

Head motion is defined as such continuous functions and sampled at any rate (30 Hz poses and gaze,
8 fps video, motion-blur sub-frames), so every stream sees exactly the same motion. A segment
between two knots with zero rate and acceleration at both ends is the minimum-jerk profile, whose
peak rate is 1.875 x amplitude / duration and peak acceleration 5.77 x amplitude / duration^2.
"""

from __future__ import annotations

import numpy as np

# Coefficients (in powers s^0..s^5) of the six quintic Hermite basis functions on s in [0, 1]:
# p(s) = H0 p0 + H1 h v0 + H2 h^2 a0 + H3 h^2 a1 + H4 h v1 + H5 p1.
_BASIS = np.array(
    [
        [1, 0, 0, -10, 15, -6],
        [0, 1, 0, -6, 8, -3],
        [0, 0, 0.5, -1.5, 1.5, -0.5],
        [0, 0, 0, 0.5, -1, 0.5],
        [0, 0, 0, -4, 7, -3],
        [0, 0, 0, 10, -15, 6],
    ],
    dtype=float,
)

MIN_JERK_PEAK_RATE = 1.875  # peak rate of a rest-to-rest min-jerk move, x amplitude / duration
MIN_JERK_PEAK_ACCEL = 5.7735  # peak acceleration, x amplitude / duration^2


def min_jerk(s: np.ndarray) -> np.ndarray:
    """The rest-to-rest minimum-jerk profile 10 s^3 - 15 s^4 + 6 s^5, clamped to s in [0, 1]."""
    s = np.clip(s, 0.0, 1.0)
    return s**3 * (10.0 - 15.0 * s + 6.0 * s * s)


class QuinticSpline:
    """A piecewise quintic C2 function of time through knots. Values have D components.

    times_s: (K,) strictly increasing; values, rates, accels: (K, D). Outside the knot range the
    function holds the end value extrapolated linearly with the end rate (the end acceleration is
    expected to be 0 there), which keeps it C1 and continuous.
    """

    def __init__(
        self,
        times_s: np.ndarray,
        values: np.ndarray,
        rates: np.ndarray | None = None,
        accels: np.ndarray | None = None,
    ) -> None:
        t = np.asarray(times_s, float)
        p = np.asarray(values, float)
        if p.ndim == 1:
            p = p[:, None]  # (K,) -> (K, 1)
        if t.ndim != 1 or t.shape[0] != p.shape[0] or t.shape[0] < 2:
            raise ValueError(
                f"QuinticSpline needs >= 2 knots with matching times and values, got times "
                f"{t.shape} and values {p.shape}"
            )
        if not np.all(np.diff(t) > 0):
            raise ValueError(f"QuinticSpline knot times must strictly increase, got {t.tolist()}")
        v = np.zeros_like(p) if rates is None else np.asarray(rates, float).reshape(p.shape)
        a = np.zeros_like(p) if accels is None else np.asarray(accels, float).reshape(p.shape)
        self.times_s = t
        h = np.diff(t)[:, None]  # (K-1, 1)
        # Per-segment control values (K-1, 6, D), ordered as the rows of _BASIS.
        ctrl = np.stack([p[:-1], h * v[:-1], h * h * a[:-1], h * h * a[1:], h * v[1:], p[1:]], 1)
        self._coef = np.einsum("bk,nbd->nkd", _BASIS, ctrl)  # (K-1, 6 powers, D)
        self._h = h[:, 0]
        self._end_values = (p[0], p[-1])
        self._end_rates = (v[0], v[-1])

    @property
    def dim(self) -> int:
        return self._coef.shape[2]

    def __call__(self, t_s: np.ndarray, order: int = 0) -> np.ndarray:
        """Values (order 0), rates (1) or accelerations (2) at times t_s. Shape (N,) -> (N, D)."""
        t = np.atleast_1d(np.asarray(t_s, float))
        seg = np.clip(np.searchsorted(self.times_s, t, side="right") - 1, 0, len(self._h) - 1)
        h = self._h[seg]
        s = (t - self.times_s[seg]) / h
        inside = (s >= 0.0) & (s <= 1.0)
        s_in = np.clip(s, 0.0, 1.0)
        coef = self._coef[seg]  # (N, 6, D)
        powers = np.arange(6)
        if order == 0:
            basis = s_in[:, None] ** powers  # (N, 6)
        elif order == 1:
            basis = powers * s_in[:, None] ** np.maximum(powers - 1, 0) / h[:, None]
        elif order == 2:
            basis = (powers * (powers - 1) * s_in[:, None] ** np.maximum(powers - 2, 0)) / (h * h)[
                :, None
            ]
        else:
            raise ValueError(f"QuinticSpline order must be 0, 1 or 2, got {order}")
        out = np.einsum("nk,nkd->nd", basis, coef)
        if not np.all(inside):
            before = t < self.times_s[0]
            after = t > self.times_s[-1]
            for mask, t_end, p_end, v_end in (
                (before, self.times_s[0], self._end_values[0], self._end_rates[0]),
                (after, self.times_s[-1], self._end_values[1], self._end_rates[1]),
            ):
                if np.any(mask):
                    if order == 0:
                        out[mask] = p_end + (t[mask] - t_end)[:, None] * v_end
                    elif order == 1:
                        out[mask] = v_end
                    else:
                        out[mask] = 0.0
        return out
