"""Procedural textures (checker, stripes, planks, tiles, noise, colour cells, sky) and colours.

Textures are functions of surface coordinates in metres, so a surface looks the same from every
viewpoint and camera motion produces true parallax. Each pattern is band-limited by the pixel's
footprint on the surface (its contrast fades as the pattern period nears the pixel size), which
stops far or grazing patterns from aliasing into moire at 128 x 128.
"""

from __future__ import annotations

import colorsys

import numpy as np

from egom2p_edge.training.synth.scene import Material


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def random_color(
    rng: np.random.Generator,
    hue: tuple[float, float] = (0.0, 1.0),
    sat: tuple[float, float] = (0.0, 1.0),
    val: tuple[float, float] = (0.2, 0.9),
) -> tuple[float, float, float]:
    """A linear-RGB albedo drawn in HSV ranges (hue in turns; sat and value in [0, 1])."""
    h = rng.uniform(*hue) % 1.0
    rgb = colorsys.hsv_to_rgb(h, rng.uniform(*sat), rng.uniform(*val))
    return tuple(float(x) for x in srgb_to_linear(np.array(rgb)))


# A fixed table of random lattice values; a texture's seed offsets where it reads the table.
# Looking values up is several times cheaper than hashing every lattice corner per pixel.
_LATTICE_BITS = 8
_LATTICE = np.random.default_rng(20250101).random((1 << _LATTICE_BITS, 1 << _LATTICE_BITS))
_MASK = (1 << _LATTICE_BITS) - 1


def _hash(ix: np.ndarray, iy: np.ndarray, seed: int) -> np.ndarray:
    """A uniform [0, 1) value per integer lattice cell (periodic every 256 cells)."""
    ox, oy = (seed * 0x9E3779B1) & _MASK, (seed * 0x85EBCA77 >> 8) & _MASK
    return _LATTICE[(iy.astype(np.int64) + oy) & _MASK, (ix.astype(np.int64) + ox) & _MASK]


def value_noise(u: np.ndarray, v: np.ndarray, seed: int, octaves: int = 2) -> np.ndarray:
    """Smooth lattice noise in [0, 1] (fractal sum of octaves). Shapes (N,), (N,) -> (N,)."""
    total = np.zeros_like(u)
    amp, norm, freq = 1.0, 0.0, 1.0
    for o in range(octaves):
        x, y = u * freq, v * freq
        ix, iy = np.floor(x), np.floor(y)
        fx, fy = x - ix, y - iy
        fx = fx * fx * (3 - 2 * fx)
        fy = fy * fy * (3 - 2 * fy)
        ox = ((seed + 1013 * o) * 0x9E3779B1) & _MASK
        oy = ((seed + 1013 * o) * 0x85EBCA77 >> 8) & _MASK
        i0 = (ix.astype(np.int64) + ox) & _MASK
        j0 = (iy.astype(np.int64) + oy) & _MASK
        i1, j1 = (i0 + 1) & _MASK, (j0 + 1) & _MASK
        n00, n10, n01, n11 = _LATTICE[j0, i0], _LATTICE[j0, i1], _LATTICE[j1, i0], _LATTICE[j1, i1]
        total += amp * ((n00 * (1 - fx) + n10 * fx) * (1 - fy) + (n01 * (1 - fx) + n11 * fx) * fy)
        norm += amp
        amp *= 0.5
        freq *= 2.0
    return total / norm


def _fade(footprint_m: np.ndarray, period_m: float) -> np.ndarray:
    """Contrast kept by a pattern of this period at this pixel footprint, in [0, 1]."""
    r = 2.0 * footprint_m / period_m
    return np.exp(-r * r)


def _mix(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    return a + (b - a) * w[:, None]


def shade_material(mat: Material, uv_m: np.ndarray, footprint_m: np.ndarray) -> np.ndarray:
    """Albedo of a material at surface coordinates. Shapes (N, 2), (N,) -> (N, 3) linear RGB."""
    a = np.asarray(mat.color_a)[None, :]
    b = np.asarray(mat.color_b)[None, :]
    c, s = np.cos(mat.angle_rad), np.sin(mat.angle_rad)
    u = c * uv_m[:, 0] + s * uv_m[:, 1]
    v = -s * uv_m[:, 0] + c * uv_m[:, 1]
    p = mat.scale_m
    k = mat.kind
    if k == "solid":
        w = np.zeros_like(u)
    elif k == "checker":
        parity = (np.floor(2 * u / p) + np.floor(2 * v / p)) % 2
        w = 0.5 + (parity - 0.5) * _fade(footprint_m, p)
    elif k == "stripes":
        edge = np.clip(
            (np.abs((u / p) % 1.0 - 0.5) - 0.25) * p / np.maximum(footprint_m, 1e-6), -1, 1
        )
        w = 0.5 + 0.5 * edge * _fade(footprint_m, p)
    elif k == "noise":
        w = value_noise(u / p, v / p, mat.seed, octaves=3)
        w = 0.5 + (w - 0.5) * 1.8 * _fade(footprint_m, p / 4)
    elif k == "planks":
        row = np.floor(v / p)
        along = u / (4 * p) + _hash(row, row, mat.seed)  # stagger the plank ends per row
        plank = np.floor(along)
        tone = _hash(plank, row, mat.seed + 7)
        grain = value_noise(u / (0.6 * p), v / (0.05 * p), mat.seed + 3, octaves=1)
        gap = np.minimum((v / p) % 1.0, (along % 1.0) * 4) < 0.04
        w = 0.25 + 0.5 * tone + 0.25 * (grain - 0.5) * _fade(footprint_m, 0.1 * p)
        w = np.where(gap, 1.4, w)
        w = 0.6 + (w - 0.6) * _fade(footprint_m, 0.5 * p)
    elif k == "tiles":
        fu, fv = (u / p) % 1.0, (v / p) % 1.0
        grout = (np.minimum(fu, 1 - fu) < 0.03) | (np.minimum(fv, 1 - fv) < 0.03)
        w = 0.12 + (grout - 0.12) * _fade(footprint_m, 0.5 * p)
    elif k == "cells":
        cu, cv = np.floor(u / p), np.floor(v / p)
        h1, h2, h3 = (_hash(cu, cv, mat.seed + i) for i in range(3))
        hue = np.stack([h1, h2, h3], axis=1)
        col = np.where((h1 < 0.35)[:, None], hue * 0.8 + 0.05, _mix(a, b, h2))
        fade = _fade(footprint_m, p)[:, None]
        out = col * fade + 0.5 * (a + b + 0.5) * (1 - fade) / 1.5
        return (
            out
            * (1.0 + mat.noise_amp * (value_noise(u / 0.1, v / 0.1, mat.seed + 9) - 0.5))[:, None]
        )
    elif k == "sky":
        w = np.clip(v / p, 0.0, 1.0) * 0.6 + 0.4 * value_noise(
            u / (0.5 * p), v / (0.3 * p), mat.seed
        )
    else:  # pragma: no cover - Material validates kind
        raise ValueError(f"unknown texture kind {k!r}")
    out = _mix(a, b, w)
    if mat.noise_amp > 0 and k != "noise":
        n = value_noise(u / 0.15, v / 0.15, mat.seed + 11, octaves=1) - 0.5
        out = out * (1.0 + 2.0 * mat.noise_amp * n * _fade(footprint_m, 0.15))[:, None]
    return np.clip(out, 0.0, 1.0)
