"""The table of ``egom2p`` subcommands: name -> (module, one-line help).

Each module defines ``add_arguments(parser)`` and ``run(args) -> int``. Modules are imported only
when their subcommand runs, so ``egom2p --help`` and ``egom2p doctor`` stay fast and the core never
imports ``training``, ``export`` or ``devices`` unless asked to.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    module: str
    help: str


COMMANDS: dict[str, Command] = {
    "demo": Command("egom2p_edge.cli.demo", "run the most complete end-to-end path"),
    "doctor": Command("egom2p_edge.cli.doctor", "report versions, the C++ runtime build and GPUs"),
    "metrics": Command("egom2p_edge.cli.metrics", "camera ATE/RTE/RRE, gaze MSE, depth AbsRel"),
    "import": Command(
        "egom2p_edge.cli.import_cmd", "import official EgoM2P checkpoints into our format"
    ),
    "parity": Command("egom2p_edge.cli.parity", "check our model against an official fixture dir"),
    "curate": Command("egom2p_edge.training.cli_curate", "cut recordings into standard 2-s clips"),
    "synth": Command("egom2p_edge.training.cli_synth", "generate synthetic egocentric clips"),
    "train": Command("egom2p_edge.training.cli_train", "train tokenizers or the backbone"),
    "export": Command("egom2p_edge.export.cli_export", "export stages to an ONNX bundle"),
    "verify": Command("egom2p_edge.export.cli_verify", "verify a bundle against its goldens"),
    "build-engines": Command(
        "egom2p_edge.export.cli_build_engines", "build TensorRT engines for a bundle"
    ),
}
