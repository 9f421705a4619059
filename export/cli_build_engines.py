"""Build TensorRT engines for a bundle's stages, on the machine that will run them (a Jetson).

One engine per stage with an optimisation profile for every dynamic axis of the manifest (batch,
input_tokens, target_tokens; see --max-batch, --max-input-tokens), cached in
$EGOM2P_ENGINE_CACHE (default ~/.cache/egom2p-edge/engines) under a key made of the TensorRT
version, the GPU, the profile and the ONNX file's sha256, copied into the bundle and recorded in
bundle.json (`engines`). The precision is the graph's (int8 Q/DQ, fp16 casts): the networks are
strongly typed, so TensorRT 10 and 11 build the same files. Where TensorRT or a GPU is missing,
the command says what is missing and how to set up a Jetson (exit code 3); --trtexec prints the
equivalent trtexec commands instead, which works anywhere. Check the engines with
`egom2p verify BUNDLE --engine tensorrt`.
"""

from __future__ import annotations

import argparse
import sys

NOT_AVAILABLE = 3  # exit code: TensorRT or a GPU is missing here


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", metavar="BUNDLE", help="bundle folder (made by egom2p export)")
    parser.add_argument(
        "--stages", nargs="+", metavar="STAGE", help="stages to build (default: all of them)"
    )
    parser.add_argument("--max-batch", type=int, metavar="N", help="backbone batch upper bound")
    parser.add_argument(
        "--max-input-tokens",
        type=int,
        metavar="N",
        help="encoder slots upper bound (default: condition + target tokens)",
    )
    parser.add_argument("--cache", metavar="DIR", help="engine cache folder")
    parser.add_argument("--rebuild", action="store_true", help="ignore cached engines")
    parser.add_argument(
        "--trtexec",
        action="store_true",
        help="print the equivalent trtexec commands and build nothing",
    )


def _profiles(args, bundle, options) -> dict:
    from egom2p_edge.export.tensorrt_profiles import axis_ranges, stage_profile

    m = bundle.manifest
    stages = args.stages or list(m.stages)
    unknown = [s for s in stages if s not in m.stages]
    if unknown:
        raise ValueError(f"the bundle has no stage {unknown}; it has {list(m.stages)}")
    out = {}
    for s in stages:
        ranges = axis_ranges(
            m,
            s,
            args.max_batch or options.max_batch,
            options.max_tokenizer_batch,
            args.max_input_tokens,
        )
        out[s] = stage_profile(m, s, ranges)
    return out


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from egom2p_edge.bundle.load import BundleError, load_bundle
    from egom2p_edge.export.presets import PRESETS, TensorRTOptions
    from egom2p_edge.export.tensorrt_env import JETPACK_STEPS, probe

    try:
        bundle = load_bundle(args.bundle)
        preset = PRESETS.get(bundle.manifest.preset.name)
        options = (preset.tensorrt if preset else None) or TensorRTOptions()
        profiles = _profiles(args, bundle, options)
    except (BundleError, FileNotFoundError, ValueError) as exc:
        print(f"egom2p build-engines: {exc}", file=sys.stderr)
        return 2
    if args.trtexec:
        from egom2p_edge.export.tensorrt_profiles import trtexec_command

        for stage, profile in profiles.items():
            onnx_file = bundle.stage_path(stage)
            engine = onnx_file.with_suffix(".engine")
            print(trtexec_command(str(onnx_file), profile, str(engine), options.workspace_mib))
        print(f"printed {len(profiles)} trtexec commands for {args.bundle}")
        return 0
    env = probe()
    if not env.ok:
        print("egom2p build-engines: TensorRT engines cannot be built here:", file=sys.stderr)
        for problem in env.problems:
            print(f"  - {problem}", file=sys.stderr)
        print(JETPACK_STEPS, file=sys.stderr)
        return NOT_AVAILABLE
    from egom2p_edge.export.tensorrt_build import build_stage, default_cache_dir, record_engines

    cache = Path(args.cache) if args.cache else default_cache_dir()
    built = []
    with tqdm(total=len(profiles), unit="engine", desc="build", file=sys.stderr) as bar:
        for stage, profile in profiles.items():
            bar.set_description(stage)
            try:
                built.append(build_stage(bundle, stage, profile, options, env, cache, args.rebuild))
            except ValueError as exc:
                print(f"egom2p build-engines: {stage}: {exc}", file=sys.stderr)
                return 1
            bar.update(1)
    bundle = record_engines(bundle.root, [(b.record, data) for b, data in built])
    for b, _ in built:
        r = b.record
        how = "cache" if b.from_cache else f"built in {b.seconds:.0f} s"
        size = bundle.manifest.file(r.file).bytes / 1e6
        print(f"{r.stage:<18} {r.precision:<6} {size:>8.2f} MB  {r.file} ({how})")
    print(
        f"wrote {len(built)} engines (TensorRT {env.tensorrt_version}, {env.gpu_name}) into "
        f"{args.bundle}, cache {cache}; check them with egom2p verify {args.bundle} --engine "
        f"tensorrt"
    )
    return 0
