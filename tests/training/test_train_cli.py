"""`egom2p train`: help, a tokenizer run and its resume, tokenising + backbone, bad arguments."""

from __future__ import annotations

import json

import pytest

from egom2p_edge.cli.main import main
from egom2p_edge.training.tokens import TokenDatabase


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for opt in ("--what", "--data", "--tokenizers", "--preset", "--steps", "--batch-size", "--lr",
                "--out", "--resume", "--seed", "--device", "torchrun"):  # fmt: skip
        assert opt in text


def test_tokenizer_run_then_resume(tmp_path, synth_clips, capsys):
    out = tmp_path / "cam"
    common = ["train", "--what", "cam-tokenizer", "--data", str(synth_clips), "--out", str(out),
              "--preset", "tiny", "--batch-size", "4", "--no-progress",
              "--threads", "1"]  # fmt: skip
    assert main([*common, "--steps", "4", "--stop-at", "2"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("trained cam-tokenizer (tiny) for 2 steps") and str(out) in line
    assert "--resume" in line
    assert main([*common, "--steps", "4", "--resume"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "for 4 steps" in line and "ate_m" in line
    steps = [json.loads(s)["step"] for s in (out / "train_log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    run = json.loads((out / "run.json").read_text())
    assert run["model_config"]["dim"] == 64 and run["optim"]["betas"] == [0.9, 0.99]


def test_backbone_from_clips_tokenises_first(tmp_path, synth_clips, tokenizer_paths, capsys):
    out = tmp_path / "bb"
    toks = [f"{r}={p}" for r, p in tokenizer_paths.items()]
    rc = main(["train", "--what", "backbone", "--data", str(synth_clips), "--out", str(out),
               "--tokenizers", *toks, "--steps", "2", "--batch-size", "2", "--input-tokens",
               "16", "--target-tokens", "16", "--gen-eval-samples", "0", "--no-progress",
               "--threads", "1"])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "wrote a token database of 8 samples" in text
    assert "trained backbone (ego-tiny) for 2 steps" in text.strip().splitlines()[-1]
    assert len(TokenDatabase(out / "tokens")) == 8
    assert (out / "checkpoint" / "model.safetensors").is_file()


def test_bad_arguments_are_reported(tmp_path, synth_clips):
    with pytest.raises(SystemExit, match="ROLE=PATH"):
        main(["train", "--what", "tokens", "--data", str(synth_clips), "--out", str(tmp_path),
              "--tokenizers", "camera=x"])  # fmt: skip
    with pytest.raises(SystemExit, match="not a token database"):
        main(["train", "--what", "backbone", "--data", str(synth_clips), "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="does not exist"):
        main(["train", "--what", "cam-tokenizer", "--data", str(tmp_path / "none"), "--out",
              str(tmp_path / "o")])  # fmt: skip
