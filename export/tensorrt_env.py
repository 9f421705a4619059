"""Is TensorRT usable here, on which GPU, and how to get it on a Jetson (the JetPack steps).

``probe()`` never raises: it imports ``tensorrt`` and asks for the CUDA device through torch or
``cuda-bindings`` (never pycuda, which cannot even be imported without a driver), and returns
what it found or what is missing. ``JETPACK_STEPS`` is the text the command prints (and the
README carries).
"""

from __future__ import annotations

from dataclasses import dataclass

JETPACK_STEPS = """\
TensorRT engines are specific to the GPU and the TensorRT version: build them on the target.
On a Jetson Orin (JetPack 6.1 or newer: TensorRT 10.3, CUDA 12.6):
  1. sudo apt install nvidia-jetpack        # TensorRT, CUDA, cuDNN and python3-libnvinfer
  2. python3 -m venv --system-site-packages ~/egom2p && . ~/egom2p/bin/activate
     (the venv sees JetPack's `tensorrt` Python bindings; check: python3 -c "import tensorrt")
  3. pip install egom2p-edge, plus torch from NVIDIA's JetPack wheel index (torch CUDA tensors
     are the engine buffers) or `pip install cuda-python`
  4. egom2p export --target orin-fp16 (or orin-int8) --model ... --out BUNDLE   (any machine)
  5. copy BUNDLE to the Jetson, then: egom2p build-engines BUNDLE
  6. egom2p verify BUNDLE --engine tensorrt
Without the Python bindings, `egom2p build-engines BUNDLE --trtexec` prints one trtexec command
per stage (/usr/src/tensorrt/bin/trtexec on JetPack) with the same optimisation profiles.
Precision lives in the ONNX graphs (Q/DQ for int8, float16 weights and casts for fp16), so the
same files build with TensorRT 10 and 11 (which has no FP16/INT8 builder flags any more)."""


@dataclass(frozen=True)
class TensorRTEnv:
    """What ``probe`` found. ``ok``: TensorRT and a CUDA GPU are both usable."""

    tensorrt_version: str | None
    gpu_name: str | None
    compute_capability: str | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _gpu() -> tuple[str | None, str | None, str | None]:
    """(name, "major.minor", problem) of CUDA device 0 via torch, else cuda-bindings."""
    try:
        import torch

        if torch.cuda.is_available():
            major, minor = torch.cuda.get_device_capability(0)
            return torch.cuda.get_device_name(0), f"{major}.{minor}", None
        torch_note = f"torch {torch.__version__} sees no CUDA device"
    except ImportError:
        torch_note = "torch is not installed"
    try:
        from cuda.bindings import runtime as cudart
    except ImportError:
        return None, None, f"no CUDA GPU found ({torch_note}; cuda-bindings not installed)"
    err, count = cudart.cudaGetDeviceCount()
    if int(err) != 0 or count < 1:
        return None, None, f"no CUDA GPU found ({torch_note}; cuda-bindings: {err})"
    err, props = cudart.cudaGetDeviceProperties(0)
    if int(err) != 0:
        return None, None, f"cannot read the GPU properties (cuda-bindings: {err})"
    name = props.name.decode() if isinstance(props.name, bytes) else str(props.name)
    return name.rstrip("\x00"), f"{props.major}.{props.minor}", None


def probe() -> TensorRTEnv:
    """TensorRT's version and the GPU, or the problems (see the module docstring)."""
    problems = []
    version = None
    try:
        import tensorrt

        version = str(tensorrt.__version__)
    except Exception as exc:  # noqa: BLE001 (ImportError, or OSError from missing libraries)
        problems.append(f"the TensorRT Python bindings do not import ({type(exc).__name__}: {exc})")
    name, cc, problem = _gpu()
    if problem:
        problems.append(problem)
    return TensorRTEnv(version, name, cc, tuple(problems))
