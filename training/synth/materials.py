"""Random material palettes for room surfaces, furniture and objects, and light colours."""

from __future__ import annotations

import numpy as np

from egom2p_edge.training.synth.scene import Material
from egom2p_edge.training.synth.textures import random_color, srgb_to_linear


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _pick(rng: np.random.Generator, options: dict[str, float]) -> str:
    names = list(options)
    w = np.array([options[n] for n in names], float)
    return names[int(rng.choice(len(names), p=w / w.sum()))]


def wall_material(rng: np.random.Generator) -> Material:
    kind = _pick(rng, {"solid": 0.45, "stripes": 0.2, "noise": 0.2, "tiles": 0.05, "checker": 0.1})
    a = random_color(rng, sat=(0.0, 0.35), val=(0.6, 0.95))
    b = tuple(float(x) for x in np.asarray(a) * rng.uniform(0.55, 0.85))
    if rng.random() < 0.3:
        b = random_color(rng, sat=(0.1, 0.5), val=(0.4, 0.9))
    return Material(
        kind, a, b, scale_m=float(rng.uniform(0.08, 0.5)), noise_amp=0.08, seed=_seed(rng)
    )


def floor_material(rng: np.random.Generator) -> Material:
    kind = _pick(rng, {"planks": 0.45, "tiles": 0.25, "checker": 0.1, "noise": 0.2})
    if kind == "planks":
        a = random_color(rng, hue=(0.04, 0.11), sat=(0.3, 0.7), val=(0.3, 0.8))
        b = tuple(float(x) for x in np.asarray(a) * 0.45)
        scale = rng.uniform(0.1, 0.22)
    elif kind == "tiles":
        a = random_color(rng, sat=(0.0, 0.3), val=(0.4, 0.9))
        b = random_color(rng, sat=(0.0, 0.1), val=(0.2, 0.6))
        scale = rng.uniform(0.25, 0.6)
    else:
        a = random_color(rng, sat=(0.0, 0.6), val=(0.2, 0.8))
        b = random_color(rng, sat=(0.0, 0.6), val=(0.1, 0.7))
        scale = rng.uniform(0.2, 0.5) if kind == "checker" else rng.uniform(0.3, 1.0)
    angle = float(rng.choice([0.0, np.pi / 2]))
    return Material(
        kind, a, b, scale_m=float(scale), angle_rad=angle, noise_amp=0.1, seed=_seed(rng)
    )


def ceiling_material(rng: np.random.Generator) -> Material:
    a = random_color(rng, sat=(0.0, 0.08), val=(0.8, 0.95))
    return Material(
        "noise", a, tuple(x * 0.9 for x in a), scale_m=1.0, noise_amp=0.05, seed=_seed(rng)
    )


def furniture_material(rng: np.random.Generator) -> Material:
    kind = _pick(rng, {"planks": 0.3, "solid": 0.3, "noise": 0.25, "stripes": 0.15})
    if kind == "planks" or rng.random() < 0.3:
        a = random_color(rng, hue=(0.03, 0.12), sat=(0.3, 0.8), val=(0.2, 0.75))
    else:
        a = random_color(rng, sat=(0.0, 0.7), val=(0.1, 0.9))
    b = tuple(float(x) for x in np.asarray(a) * rng.uniform(0.4, 0.8))
    if kind == "stripes":
        b = random_color(rng, sat=(0.0, 0.8), val=(0.2, 0.9))
    scale = rng.uniform(0.05, 0.3)
    return Material(
        kind,
        a,
        b,
        scale_m=float(scale),
        angle_rad=float(rng.uniform(0, np.pi)),
        noise_amp=0.1,
        seed=_seed(rng),
    )


def object_material(rng: np.random.Generator) -> Material:
    """Small objects: saturated colours and bold patterns, easy to tell apart."""
    kind = _pick(
        rng, {"solid": 0.35, "stripes": 0.2, "checker": 0.15, "cells": 0.15, "noise": 0.15}
    )
    a = random_color(rng, sat=(0.4, 1.0), val=(0.3, 0.95))
    b = random_color(rng, sat=(0.0, 1.0), val=(0.1, 0.95))
    return Material(
        kind,
        a,
        b,
        scale_m=float(rng.uniform(0.02, 0.08)),
        angle_rad=float(rng.uniform(0, np.pi)),
        noise_amp=0.08,
        seed=_seed(rng),
    )


def poster_material(rng: np.random.Generator) -> Material:
    kind = _pick(rng, {"cells": 0.4, "stripes": 0.2, "checker": 0.15, "noise": 0.25})
    a = random_color(rng, sat=(0.3, 1.0), val=(0.3, 0.95))
    b = random_color(rng, sat=(0.3, 1.0), val=(0.1, 0.95))
    return Material(
        kind,
        a,
        b,
        scale_m=float(rng.uniform(0.05, 0.25)),
        angle_rad=float(rng.uniform(0, np.pi)),
        noise_amp=0.1,
        seed=_seed(rng),
    )


def window_material(rng: np.random.Generator, brightness: float) -> Material:
    sky_top = random_color(rng, hue=(0.55, 0.62), sat=(0.2, 0.6), val=(0.8, 1.0))
    sky_low = random_color(rng, hue=(0.1, 0.6), sat=(0.0, 0.3), val=(0.7, 1.0))
    return Material(
        "sky", sky_low, sky_top, scale_m=1.2, noise_amp=0.0, seed=_seed(rng), emissive=brightness
    )


def lamp_material(brightness: float, tint: tuple[float, float, float]) -> Material:
    return Material("solid", tint, tint, noise_amp=0.0, emissive=brightness)


# Approximate sRGB colour of a black body, for lamp colour temperatures (kelvin).
_KELVIN = np.array([2700.0, 3500.0, 4500.0, 5500.0, 6500.0])
_KELVIN_RGB = np.array(
    [[1.0, 0.69, 0.39], [1.0, 0.78, 0.56], [1.0, 0.87, 0.73], [1.0, 0.93, 0.87], [1.0, 0.98, 1.0]]
)


def light_color(kelvin: float) -> np.ndarray:
    """Linear RGB of a light of this colour temperature, normalised to luminance ~1. Shape (3,)."""
    rgb = np.array([np.interp(kelvin, _KELVIN, _KELVIN_RGB[:, i]) for i in range(3)])
    lin = srgb_to_linear(rgb)
    return lin / (0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2])
