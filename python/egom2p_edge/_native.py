"""Loads the compiled runtime ``egom2p_edge._runtime``.

The extension needs ``libonnxruntime.so.1`` (its SONAME), but the onnxruntime wheel ships the
library only as ``libonnxruntime.so.<version>``. Loading that file with ``RTLD_GLOBAL`` first
satisfies the dependency by SONAME, so the extension imports in any environment where the
onnxruntime wheel is installed.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
from types import ModuleType


class RuntimeNotBuiltError(ImportError):
    """The C++ runtime extension is missing or cannot load."""


def onnxruntime_library_path() -> str:
    """Path of the onnxruntime wheel's shared library."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise RuntimeNotBuiltError(
            "the onnxruntime package is not installed; `pip install onnxruntime==1.32.0`"
        ) from exc
    capi = os.path.join(os.path.dirname(onnxruntime.__file__), "capi")
    libs = sorted(glob.glob(os.path.join(capi, "libonnxruntime.so.*")))
    if not libs:
        raise RuntimeNotBuiltError(f"no libonnxruntime.so.* in {capi}; reinstall onnxruntime")
    return libs[-1]


@functools.lru_cache(maxsize=1)
def load_runtime() -> ModuleType:
    """Import and return ``egom2p_edge._runtime``; RuntimeNotBuiltError says what is wrong."""
    lib = onnxruntime_library_path()
    ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
    try:
        from egom2p_edge import _runtime
    except ImportError as exc:
        raise RuntimeNotBuiltError(
            f"the C++ runtime egom2p_edge._runtime cannot be imported ({exc}). Reinstall the SDK "
            f"with `pip install .` (or `./dev setup`) so the extension is built; `egom2p doctor` "
            f"shows the details."
        ) from exc
    return _runtime


def Engine(path: str | os.PathLike, threads: int = 0, graph_optimization: str = "all"):
    """A C++ engine over ONNX Runtime for one ONNX file (see ``_runtime.Engine``)."""
    return load_runtime().Engine(os.fspath(path), int(threads), graph_optimization)
