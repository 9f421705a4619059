"""The C++ engine (egom2p_edge._native.Engine) runs every exported stage like Python ORT."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.bundle import load_bundle, names
from egom2p_edge.bundle.sessions import open_session

_native = pytest.importorskip("egom2p_edge._native")

CASES = (
    [("tiny_bundle", s) for s in names.STAGES]
    + [("parity_bundle", s) for s in names.STAGES if not s.startswith("video")]
    + [("parity_video_bundle", s) for s in (names.VIDEO_ENCODER, names.VIDEO_DECODER)]
)


@pytest.fixture(scope="module")
def native_available() -> None:
    try:
        _native.load_runtime()
    except _native.RuntimeNotBuiltError as exc:
        pytest.skip(f"C++ runtime not built: {exc}")


@pytest.mark.parametrize("bundle_name,stage", CASES)
def test_native_engine_matches_python_ort_on_goldens(
    request: pytest.FixtureRequest, native_available, bundle_name: str, stage: str
) -> None:
    from egom2p_edge.export.compare import compare_output

    bundle = load_bundle(request.getfixturevalue(bundle_name).path, check_hashes=False)
    spec = bundle.stage(stage)
    opts = bundle.manifest.session_options
    engine = _native.Engine(
        bundle.stage_path(stage), opts.intra_op_threads, opts.graph_optimization
    )
    # The engine sees the graph the manifest describes (names, dtypes, named dynamic axes).
    assert [i["name"] for i in engine.inputs] == [t.name for t in spec.inputs]
    assert [o["name"] for o in engine.outputs] == [t.name for t in spec.outputs]
    for info, t in zip(list(engine.inputs) + list(engine.outputs), spec.inputs + spec.outputs):
        assert info["dtype"] == t.dtype
        assert list(info["shape"]) == list(t.shape)
    golden = bundle.goldens()[stage]
    feeds = {t.name: golden[t.name] for t in spec.inputs}
    out_native = engine.run(feeds)
    out_python = dict(
        zip([t.name for t in spec.outputs], open_session(bundle, stage).run(None, feeds))
    )
    for t in spec.outputs:
        # Same ONNX Runtime library and session options: bit-identical results.
        np.testing.assert_array_equal(out_native[t.name], out_python[t.name])
        check = compare_output(
            t.name, t.compare, out_native[t.name], golden[t.name], bundle.manifest.tolerances
        )
        assert check.ok, check.line()


def test_verify_command_through_the_native_engine(tiny_traj_bundle, native_available) -> None:
    from export_helpers import run_cli

    rc, out, err = run_cli("verify", str(tiny_traj_bundle.path), "--engine", "native")
    assert rc == 0, out + err
    assert "(native): all pass" in out
