"""The validation set stored in a reduced-precision bundle (``validation.safetensors``).

Keys (safetensors, plain numpy):

- ``window/<name>``: the windows (``EvalWindows`` fields: ``frames_uint8`` when the bundle has
  video, ``gaze_input``, ``gaze_xy_true``, ``gaze_valid``, ``cam_9d_norm``,
  ``T_window_camera_true``); absent when the bundle was exported with no validation windows.
- ``fp32/<result>``: the fp32 reference pipeline's results on them (the keys of
  ``window_pipeline.run_windows``: tokenizer ids and reconstructions, the full decode's tokens,
  gaze and poses).
- ``fp32_golden/<stage>/<tensor>``: the fp32 reference's outputs on the bundle's golden inputs
  (the reduced graphs' own outputs are the goldens), for per-stage agreement.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from egom2p_edge.export.eval_windows import EvalWindows

_WINDOW_FIELDS = (
    "frames_uint8",
    "gaze_input",
    "gaze_xy_true",
    "gaze_valid",
    "cam_9d_norm",
    "T_window_camera_true",
)


def write_validation(
    path: Path,
    windows: EvalWindows | None,
    reference: dict[str, np.ndarray],
    fp32_goldens: dict[str, dict[str, np.ndarray]],
) -> Path:
    """Write the validation file (see the module docstring)."""
    from safetensors.numpy import save_file

    flat: dict[str, np.ndarray] = {}
    for name in _WINDOW_FIELDS if windows is not None else ():
        arr = getattr(windows, name)
        if arr is not None:
            flat[f"window/{name}"] = np.ascontiguousarray(arr)
    for key, arr in reference.items():
        flat[f"fp32/{key}"] = np.ascontiguousarray(arr)
    for stage, group in fp32_goldens.items():
        for tensor, arr in group.items():
            flat[f"fp32_golden/{stage}/{tensor}"] = np.ascontiguousarray(arr)
    save_file(flat, str(path), metadata={"format": "egom2p-edge-bundle", "content": "validation"})
    return path


def read_validation(
    path: Path,
) -> tuple[EvalWindows | None, dict[str, np.ndarray], dict[str, dict[str, np.ndarray]]]:
    """(windows or None, fp32 results, fp32 golden outputs per stage); ValueError for a broken
    file."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        flat = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{path}: cannot read the validation set as safetensors: {exc}") from None
    win: dict[str, np.ndarray | None] = {name: None for name in _WINDOW_FIELDS}
    reference: dict[str, np.ndarray] = {}
    goldens: dict[str, dict[str, np.ndarray]] = {}
    for key, arr in flat.items():
        group, _, rest = key.partition("/")
        if group == "window" and rest in win:
            win[rest] = arr
        elif group == "fp32":
            reference[rest] = arr
        elif group == "fp32_golden" and rest.count("/") == 1:
            stage, tensor = rest.split("/")
            goldens.setdefault(stage, {})[tensor] = arr
        else:
            raise ValueError(f"{path}: unexpected key {key!r} in the validation set")
    if all(v is None for v in win.values()):
        return None, reference, goldens
    missing = [k for k in _WINDOW_FIELDS[1:] if win[k] is None]
    if missing:
        raise ValueError(f"{path}: the validation set lacks window/{missing[0]}")
    windows = EvalWindows(**win)  # type: ignore[arg-type]
    return windows, reference, goldens
