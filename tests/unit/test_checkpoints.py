"""Checkpoints: our safetensors format, refusal of unsafe .pth files, and `egom2p import`."""

from __future__ import annotations

import argparse
import json
import os
import sys

import pytest
import torch
from safetensors import safe_open

from egom2p_edge.checkpoints.official import load_official_checkpoint
from egom2p_edge.checkpoints.sdk_format import (
    load_checkpoint,
    save_checkpoint,
    state_dicts_equal,
)
from egom2p_edge.cli.import_cmd import import_any
from egom2p_edge.cli.main import main as egom2p_main

# ----- our format ---------------------------------------------------------------------------


def _mixed_state() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    shared = torch.randn(5, 4, generator=g)
    big = torch.arange(20, dtype=torch.float32)
    return {
        "emb.weight": shared,
        "to_logits.weight": shared,  # tied: same tensor under two names
        "half": torch.randn(3, generator=g).half(),
        "bf16": torch.randn(2, 2, generator=g).bfloat16(),
        "ids": torch.tensor([1, -2, 3], dtype=torch.int64),
        "mask": torch.tensor([True, False]),
        "transposed": torch.randn(3, 4, generator=g).t(),  # not contiguous
        "slice": big[5:9],  # a view into a bigger buffer
        "big": big,
        "scalar": torch.tensor(2.5),
        "nan": torch.tensor([float("nan"), -0.0, float("inf")]),
    }


def test_round_trip_is_exact_and_keeps_order_and_ties(tmp_path):
    state = _mixed_state()
    config = {"dim": 4, "names": ["a", "b"], "nested": {"x": None}}
    prov = {"source": "unit test"}
    w, c = save_checkpoint(tmp_path / "ck", "backbone", config, state, prov)
    assert w.name == "model.safetensors" and c.name == "config.json"
    kind, config2, state2, prov2 = load_checkpoint(tmp_path / "ck")
    assert (kind, config2, prov2) == ("backbone", config, prov)
    assert list(state2) == list(state)
    assert state_dicts_equal(state, state2)
    assert state2["emb.weight"] is state2["to_logits.weight"]
    assert torch.equal(state2["slice"], torch.arange(5, 9, dtype=torch.float32))
    with safe_open(str(w), "pt") as f:
        stored = set(f.keys())
        assert f.metadata()["format"] == "egom2p-edge-checkpoint"
    assert "to_logits.weight" not in stored and "emb.weight" in stored  # tied: stored once
    header = json.loads(c.read_text())
    assert header["tied"] == {"to_logits.weight": "emb.weight"}
    assert header["format_version"] == 1


def test_file_pair_layout(tmp_path):
    state = {"w": torch.ones(2)}
    w, c = save_checkpoint(tmp_path / "tok.safetensors", "vqvae", {}, state)
    assert c == tmp_path / "tok.json" and w.is_file() and c.is_file()
    for p in (w, c):
        assert load_checkpoint(p)[0] == "vqvae"


def test_state_dicts_equal_sees_bit_differences():
    a = {"x": torch.tensor([0.0, 1.0])}
    assert not state_dicts_equal(a, {"x": torch.tensor([-0.0, 1.0])})
    assert not state_dicts_equal(a, {"x": torch.tensor([0.0, 1.0], dtype=torch.float64)})
    assert not state_dicts_equal(a, {"y": torch.tensor([0.0, 1.0])})


def test_save_refuses_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        save_checkpoint(tmp_path / "a", "tokenizer", {}, {})
    with pytest.raises(ValueError, match="config"):
        save_checkpoint(tmp_path / "a", "vqvae", {"x": object()}, {})
    with pytest.raises(ValueError, match="provenance"):
        save_checkpoint(tmp_path / "a", "vqvae", {}, {}, {"x": float("nan")})
    with pytest.raises(ValueError, match="torch.Tensor"):
        save_checkpoint(tmp_path / "a", "vqvae", {}, {"w": [1.0]})
    with pytest.raises(ValueError, match="meta"):
        save_checkpoint(tmp_path / "a", "vqvae", {}, {"w": torch.empty(2, device="meta")})


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_checkpoint(tmp_path / "missing")
    save_checkpoint(tmp_path / "ck", "vqvae", {}, {"w": torch.ones(2)})
    cfg_path = tmp_path / "ck" / "config.json"
    header = json.loads(cfg_path.read_text())

    def write(h):
        cfg_path.write_text(json.dumps(h))

    write({**header, "format_version": 99})
    with pytest.raises(ValueError, match="format_version"):
        load_checkpoint(tmp_path / "ck")
    write({**header, "format": "something-else"})
    with pytest.raises(ValueError, match="format"):
        load_checkpoint(tmp_path / "ck")
    write({**header, "kind": "llm"})
    with pytest.raises(ValueError, match="kind"):
        load_checkpoint(tmp_path / "ck")
    write({**header, "key_order": ["w", "v"]})
    with pytest.raises(ValueError, match="missing tensors"):
        load_checkpoint(tmp_path / "ck")
    cfg_path.write_text("{not json")
    with pytest.raises(ValueError, match="JSON"):
        load_checkpoint(tmp_path / "ck")
    write(header)
    (tmp_path / "ck" / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_checkpoint(tmp_path / "ck")


# ----- refusal of unsafe official files ---------------------------------------------------------


class CustomPayload:
    """Any class other than argparse.Namespace must be refused."""

    def __init__(self) -> None:
        self.value = 1


class ShellPayload:
    """Unpickling this would run a shell command (the classic pickle attack)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _official_like(path, args) -> None:
    torch.save({"model": {"w": torch.zeros(2)}, "args": args, "epoch": 3}, path)


def test_namespace_checkpoint_loads(tmp_path):
    _official_like(tmp_path / "ok.pth", argparse.Namespace(encoder_type="CamTransformer"))
    ck = load_official_checkpoint(tmp_path / "ok.pth")
    assert ck.args == {"encoder_type": "CamTransformer"} and ck.epoch == 3


def test_pickled_custom_class_is_refused(tmp_path):
    _official_like(tmp_path / "custom.pth", CustomPayload())
    with pytest.raises(ValueError, match="refusing"):
        load_official_checkpoint(tmp_path / "custom.pth")


def test_os_system_reduce_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"model": {"w": torch.zeros(1)}, "args": ShellPayload(str(marker))}, path)
    with pytest.raises(ValueError, match="refusing"):
        load_official_checkpoint(path)
    assert not marker.exists()
    # The import command refuses it too, with exit code 1 and no output folder.
    assert egom2p_main(["import", str(path), "--out", str(tmp_path / "out")]) == 1
    assert not marker.exists() and not (tmp_path / "out" / "model.safetensors").exists()


# ----- egom2p import ----------------------------------------------------------------------------


@pytest.mark.parametrize("domain", ["cam", "gaze"])
def test_import_command_round_trip(parity_dir, tmp_path, capsys, domain):
    from egom2p_edge.checkpoints.vqvae_import import load_official_vqvae
    from egom2p_edge.models.vqvae.io import load_vqvae

    src = parity_dir / f"{domain}_tokenizer" / "checkpoint.pth"
    out = tmp_path / domain
    assert egom2p_main(["import", str(src), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "non-commercial" in printed and "wrote vqvae checkpoint" in printed
    ours = load_vqvae(out)
    official = load_official_vqvae(src)
    assert state_dicts_equal(ours.state_dict(), official.state_dict())
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 60, ours.config.input_channels, generator=g)
    if domain == "gaze":
        x[..., 2] = (torch.rand(4, 60, generator=g) > 0.1).float()
    with torch.no_grad():
        idx = ours.encode(x)
        assert torch.equal(idx, official.encode(x))
        assert torch.equal(ours.decode_tokens(idx), official.decode_tokens(idx))
    _, _, _, prov = load_checkpoint(out)
    assert prov["official_args"]["encoder_type"].lower().startswith(domain)
    assert len(prov["sha256"]) == 64
    # A second import into the same folder needs --force.
    assert egom2p_main(["import", str(src), "--out", str(out)]) == 2
    assert egom2p_main(["import", str(src), "--out", str(out), "--force"]) == 0


def test_import_dispatch_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError):
        import_any(tmp_path / "nope.pth")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ValueError, match="encoder.jit"):
        import_any(tmp_path / "folder")
    _official_like(tmp_path / "other.pth", argparse.Namespace(model="resnet50"))
    with pytest.raises(ValueError, match="not a recognised"):
        import_any(tmp_path / "other.pth")
    # A backbone checkpoint while the backbone importer is missing: a clear message.
    _official_like(tmp_path / "main.pth", argparse.Namespace(model="egom2p_base_12e_12d"))
    monkeypatch.setitem(sys.modules, "egom2p_edge.checkpoints.backbone_import", None)
    with pytest.raises(ValueError, match="backbone_import"):
        import_any(tmp_path / "main.pth")
