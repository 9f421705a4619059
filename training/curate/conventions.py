"""Camera-pose conventions of each source and their conversion to OpenCV camera-to-world.

Every conversion is a right-multiplication ``T_world_camera_opencv = T_world_x @ M`` (EgoM2P's
``P @ M``), except ``hololens_row_vector``, which transposes row-vector matrices (translation in
the last row, as HoloLens / hl2ss stream them) into the column-vector form. Names:

* ``opencv``: identity (TUM ground truth, HOT3D, ADT, H2O, ARCTIC, TACO; x right, y down, z fwd).
* ``opengl``: ``diag(1, -1, -1, 1)`` (x right, y up, z backward; EgoGen, Blender, Unity-like).
* ``aria_cw90``: ``CW90 = [[0,1,0,0],[-1,0,0,0],[0,0,1,0],[0,0,0,1]]``: the raw Aria RGB image
  is rotated 90 degrees; turning the image clockwise to upright turns the camera axes with it
  (EgoExo4D's ``cw90``; the metric fixtures' Aria windows use it).
* ``holoassist``: ``[[0,0,1,0],[-1,0,0,0],[0,-1,0,0],[0,0,0,1]]`` (EgoM2P ``holocam2opencv``).
* ``hololens_row_vector``: transpose (apply before any right-multiplication).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CW90 = np.array(
    [[0.0, 1.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)
OPENGL_TO_OPENCV = np.diag([1.0, -1.0, -1.0, 1.0])
HOLOASSIST_TO_OPENCV = np.array(
    [[0.0, 0.0, 1.0, 0.0], [-1.0, 0.0, 0.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)

RIGHT_MULTIPLY: dict[str, np.ndarray] = {
    "opencv": np.eye(4),
    "opengl": OPENGL_TO_OPENCV,
    "aria_cw90": CW90,
    "holoassist": HOLOASSIST_TO_OPENCV,
}
TRANSPOSE = {"hololens_row_vector"}
KNOWN_CONVENTIONS = tuple(sorted(set(RIGHT_MULTIPLY) | TRANSPOSE))


def check_conventions(names: Sequence[str]) -> tuple[str, ...]:
    """Validate convention names; ValueError naming the unknown one and the known ones."""
    if isinstance(names, str):
        names = [n for n in names.split("+") if n]
    for n in names:
        if n not in RIGHT_MULTIPLY and n not in TRANSPOSE:
            raise ValueError(
                f"unknown pose convention {n!r}: expected one of "
                f"{list(KNOWN_CONVENTIONS)} (combine with '+')"
            )
    return tuple(names)


def conversion_matrix(names: Sequence[str]) -> np.ndarray:
    """The product of the right-multiplied matrices, in order (transposes excluded). (4, 4)."""
    M = np.eye(4)
    for n in check_conventions(names):
        if n in RIGHT_MULTIPLY:
            M = M @ RIGHT_MULTIPLY[n]
    return M


def to_opencv(T: np.ndarray, names: Sequence[str] | str) -> np.ndarray:
    """Apply conventions in order. Shape (N, 4, 4) -> (N, 4, 4) float64.

    Raises ValueError for an unknown name, or for row-vector input whose last column is not
    [0, 0, 0, 1] (a sign the poses are column-vector already).
    """
    names = check_conventions(names)
    out = np.asarray(T, dtype=np.float64).copy()
    for n in names:
        if n in TRANSPOSE:
            if not np.allclose(out[:, :3, 3], 0.0, atol=1e-9) or not np.allclose(out[:, 3, 3], 1.0):
                raise ValueError(
                    "hololens_row_vector: expected row-vector poses (translation in the last "
                    "row, last column [0, 0, 0, 1]); these look column-vector already"
                )
            out = np.swapaxes(out, -1, -2).copy()
        else:
            out = out @ RIGHT_MULTIPLY[n]
    return out
