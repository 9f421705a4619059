"""Generation with random weights: the three modes on ego-tiny; CFG, chaining, seeds, forced order
and the other behaviours on a smaller ego-tiny variant (64x64 video, 2 + 2 blocks) for speed."""

from __future__ import annotations

import pytest
import torch

from egom2p_edge.models.backbone import EgoM2P, backbone_preset, make_modalities
from egom2p_edge.models.generation import ForcedDecoding, TorchRng, generate
from egom2p_edge.rng import PortableRng

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny():
    """The ego-tiny preset itself (5x16x16 video tokens)."""
    return EgoM2P(backbone_preset("ego-tiny"), seed=0).eval()


@pytest.fixture(scope="module")
def model():
    """ego-tiny with 64x64 video (5x8x8 tokens), 2 + 2 blocks: same code paths, faster."""
    cfg = backbone_preset(
        "ego-tiny",
        encoder_depth=2,
        decoder_depth=2,
        modalities=make_modalities(video_size=64, video_vocab=4096),
    )
    return EgoM2P(cfg, seed=0).eval()


def _rgb(model):
    g = torch.Generator().manual_seed(0)
    spec = model.config.spec("tok_rgb")
    return torch.randint(0, spec.vocab_size, (1, *spec.token_shape), generator=g)


@pytest.fixture(scope="module")
def rgb(model):
    return _rgb(model)


@pytest.fixture(scope="module")
def rgb_tiny(tiny):
    return _rgb(tiny)


class CountingEncoder:
    """Counts encoder passes of a model (restores the method afterwards)."""

    def __init__(self, model):
        self.model, self.calls = model, 0

    def __enter__(self):
        orig = self.model.encode

        def counted(*a, **k):
            self.calls += 1
            return orig(*a, **k)

        self.model.encode = counted
        return self

    def __exit__(self, *exc):
        del self.model.encode


def test_official_rgb_to_cam(tiny, rgb_tiny):
    with CountingEncoder(tiny) as c:
        res = generate(tiny, {"rgb": rgb_tiny}, ["cam"], record=True)
    tok, prob = res.tokens["tok_cam"], res.probs["tok_cam"]
    assert tok.shape == (1, 30) and int(tok.min()) >= 0 and int(tok.max()) < 256
    assert torch.isfinite(prob).all() and (prob > 0).all() and (prob <= 1).all()
    assert [r.positions.shape[1] for r in res.steps] == [10, 10, 10]
    assert [int(r.n_encoder_tokens_cond[0]) for r in res.steps] == [1280, 1290, 1300]
    assert [int(r.n_encoder_tokens_uncond[0]) for r in res.steps] == [0, 10, 20]
    assert c.calls == 6  # one conditional + one unconditional pass per step
    all_pos = torch.cat([r.positions[0] for r in res.steps])
    assert sorted(all_pos.tolist()) == list(range(30))  # every position once
    for r in res.steps:
        torch.testing.assert_close(
            r.logits_guided, r.logits_uncond + (r.logits_cond - r.logits_uncond) * 2.0
        )


def test_first_unconditional_pass_has_no_context(model, rgb):
    res = generate(model, {"rgb": rgb}, ["gaze"], temperature=0.0, record=True)
    first = res.steps[0]
    cfg = model.config
    with torch.no_grad():
        ctx = torch.randn(1, 1, cfg.dim)
        hidden = model.decode_hidden(
            ctx,
            torch.zeros(1, 1, dtype=torch.bool),
            first.positions,
            torch.full_like(first.positions, cfg.index("tok_gaze")),
        )
        expected = model.logits(hidden, "tok_gaze")
    torch.testing.assert_close(first.logits_uncond, expected)


def test_argmax_at_temperature_zero(model, rgb):
    res = generate(model, {"rgb": rgb}, ["cam"], temperature=0.0, record=True)
    for r in res.steps:
        assert torch.equal(r.tokens, r.logits_guided.argmax(-1))


def test_same_seed_same_tokens_other_seed_differs(model, rgb):
    kw = dict(temperature=1.0, top_p=0.0, steps=2)
    a = generate(model, {"rgb": rgb}, ["gaze"], seed=3, **kw)
    b = generate(model, {"rgb": rgb}, ["gaze"], seed=3, **kw)
    c = generate(model, {"rgb": rgb}, ["gaze"], seed=4, **kw)
    assert torch.equal(a.tokens["tok_gaze"], b.tokens["tok_gaze"])
    assert not torch.equal(a.tokens["tok_gaze"], c.tokens["tok_gaze"])
    p1 = generate(model, {"rgb": rgb}, ["gaze"], rng=PortableRng(3), **kw)
    p2 = generate(model, {"rgb": rgb}, ["gaze"], rng=PortableRng(3), **kw)
    assert torch.equal(p1.tokens["tok_gaze"], p2.tokens["tok_gaze"])


def test_forced_order_is_followed(model, rgb):
    order = [torch.arange(0, 10), torch.arange(10, 20), torch.arange(20, 30)]
    res = generate(
        model,
        {"rgb": rgb},
        ["cam"],
        temperature=0.0,
        forced=ForcedDecoding(positions={"tok_cam": order}),
        record=True,
    )
    assert [r.positions[0].tolist() for r in res.steps] == [o.tolist() for o in order]
    free = generate(model, {"rgb": rgb}, ["cam"], temperature=0.0, record=True)
    replay = generate(
        model,
        {"rgb": rgb},
        ["cam"],
        temperature=0.0,
        forced=ForcedDecoding(positions={"tok_cam": [r.positions[0] for r in free.steps]}),
    )
    assert torch.equal(free.tokens["tok_cam"], replay.tokens["tok_cam"])


def test_forced_positions_must_be_unknown(model, rgb):
    bad = [torch.arange(10), torch.arange(10), torch.arange(20, 30)]
    with pytest.raises(ValueError, match="distinct unknown positions"):
        generate(model, {"rgb": rgb}, ["cam"], forced=ForcedDecoding(positions={"tok_cam": bad}))


def test_joint_equals_official_for_one_target(model, rgb):
    a = generate(model, {"rgb": rgb}, ["gaze"], mode="official")
    b = generate(model, {"rgb": rgb}, ["gaze"], mode="joint")
    assert torch.equal(a.tokens["tok_gaze"], b.tokens["tok_gaze"])


def test_joint_shares_encoder_passes(tiny, rgb_tiny):
    with CountingEncoder(tiny) as c:
        res = generate(tiny, {"rgb": rgb_tiny}, ["cam", "gaze"], mode="joint", record=True)
    assert c.calls == 2 * 5  # gaze has 5 steps; cam finishes after 3
    steps = [(r.step, r.target, r.positions.shape[1]) for r in res.steps]
    assert steps[:2] == [(0, "tok_cam", 10), (0, "tok_gaze", 6)]
    assert [s for s in steps if s[1] == "tok_cam"] == [(i, "tok_cam", 10) for i in range(3)]
    cond = {r.step: int(r.n_encoder_tokens_cond[0]) for r in res.steps}
    assert cond == {0: 1280, 1: 1296, 2: 1312, 3: 1328, 4: 1334}
    uncond = {r.step: int(r.n_encoder_tokens_uncond[0]) for r in res.steps}
    assert uncond[1] == 16  # the uncond pass keeps both targets' decoded tokens
    for t in ("tok_cam", "tok_gaze"):
        assert torch.isfinite(res.probs[t]).all()


def test_single_pass_is_one_encoder_pair(tiny, rgb_tiny):
    with CountingEncoder(tiny) as c:
        res = generate(tiny, {"rgb": rgb_tiny}, ["cam", "gaze"], mode="single_pass", record=True)
    assert c.calls == 2
    assert [(r.step, r.target, r.positions.shape[1]) for r in res.steps] == [
        (0, "tok_cam", 30),
        (0, "tok_gaze", 30),
    ]


def test_official_two_targets_chain_with_growing_condition(model, rgb):
    res = generate(model, {"rgb": rgb}, ["cam", "gaze"], mode="official", record=True)
    gaze = [r for r in res.steps if r.target == "tok_gaze"]
    assert [r.step for r in gaze] == [3, 4, 5, 6, 7]  # global step index continues the chain
    assert int(gaze[0].n_encoder_tokens_cond[0]) == 320 + 30  # rgb + finished cam
    assert int(gaze[0].n_encoder_tokens_uncond[0]) == 0  # rgb and cam emptied (grown)
    res2 = generate(model, {"rgb": rgb}, ["cam", "gaze"], grow_conditioning=False, record=True)
    gaze2 = [r for r in res2.steps if r.target == "tok_gaze"]
    assert int(gaze2[0].n_encoder_tokens_uncond[0]) == 30  # cam stays in the uncond pass


def test_chained_rgb_to_depth_to_cam(model, rgb):
    res = generate(model, {"rgb": rgb}, ["depth", "cam"], steps={"depth": 2, "cam": 3}, record=True)
    depth = res.tokens["tok_depth"]
    assert depth.shape == (1, 320) and int(depth.max()) < 4096
    assert [r.positions.shape[1] for r in res.steps] == [160, 160, 10, 10, 10]
    cam_first = res.steps[2]
    assert int(cam_first.n_encoder_tokens_cond[0]) == 640
    assert int(cam_first.n_encoder_tokens_uncond[0]) == 0


def test_maskgit_keeps_most_confident(model, rgb):
    res = generate(
        model, {"rgb": rgb}, ["cam"], scheme="maskgit", schedule="cosine", steps=4, record=True
    )
    assert sum(r.positions.shape[1] for r in res.steps) == 30
    assert torch.isfinite(res.probs["tok_cam"]).all()


def test_partially_given_target_only_decodes_unknown(model, rgb):
    ids = torch.arange(30)[None] % 256
    known = torch.zeros(1, 30, dtype=torch.bool)
    known[0, :12] = True
    res = generate(model, {"rgb": rgb, "cam": (ids, known)}, ["cam"], steps=3, record=True)
    assert torch.equal(res.tokens["tok_cam"][0, :12], ids[0, :12])
    assert torch.isnan(res.probs["tok_cam"][0, :12]).all()
    assert [r.positions.shape[1] for r in res.steps] == [6, 6, 6]


def test_batch_of_two_matches_single_items(model, rgb):
    other = torch.roll(rgb, 1, dims=-1)
    both = generate(model, {"rgb": torch.cat([rgb, other])}, ["gaze"], temperature=0.0)
    one = generate(model, {"rgb": other}, ["gaze"], temperature=0.0)
    assert torch.equal(both.tokens["tok_gaze"][1:], one.tokens["tok_gaze"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(mode="fast"), "unknown decoding mode"),
        (dict(targets=[]), "targets is empty"),
        (dict(targets=["cam", "tok_cam"]), "repeat"),
        (dict(targets=["audio"]), "unknown modality"),
        (dict(steps={"gaze": 2}), "no entry for targets"),
    ],
)
def test_bad_arguments(model, rgb, kwargs, match):
    targets = kwargs.pop("targets", ["cam"])
    with pytest.raises(ValueError, match=match):
        generate(model, {"rgb": rgb}, targets, **kwargs)


def test_bad_condition_tokens(model, rgb):
    with pytest.raises(ValueError, match="ids must be in"):
        generate(model, {"rgb": rgb + 4096}, ["cam"])
    with pytest.raises(ValueError, match="expected \\(B, 320\\)"):
        generate(model, {"rgb": rgb.reshape(1, -1)[:, :100]}, ["cam"])
    with pytest.raises(ValueError, match="fully given"):
        generate(model, {"rgb": rgb, "cam": torch.zeros(1, 30, dtype=torch.long)}, ["cam"])


def test_torch_rng_reproduces_global_seed_calls():
    """TorchRng draws what the official code draws after torch.manual_seed(seed + step)."""
    rng = TorchRng(5)
    rng.begin_step(2)
    known = torch.zeros(30, dtype=torch.bool)
    probs = torch.softmax(torch.randn(4, 9, generator=torch.Generator().manual_seed(1)), -1)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(7)
        expected = torch.argsort(known[None] + torch.rand(30) * 1e-6, dim=1)[0]
        want_tokens = torch.multinomial(probs, 1)[:, 0]
    finally:
        torch.random.set_rng_state(state)
    assert torch.equal(rng.order(known), expected)
    assert torch.equal(rng.sample(probs), want_tokens)


@pytest.mark.gpu
@pytest.mark.parametrize("mode", ["official", "joint", "single_pass"])
def test_generation_on_cuda_matches_the_cpu(model, mode):
    """The model on a GPU: states follow the model's device, the RNG stays on the CPU; with
    TF32 off the tokens equal the CPU's (a flat untrained model still samples identically unless
    float reordering moves a probability across a draw, so allow a rare difference)."""
    torch.backends.cuda.matmul.allow_tf32 = False
    rgb = torch.randint(0, 4096, (1, 5, 8, 8), generator=torch.Generator().manual_seed(1))
    cpu = generate(model, {"rgb": rgb}, ["tok_cam", "tok_gaze"], mode=mode, rng=PortableRng(3))
    gpu_model = EgoM2P(model.config, seed=0).eval().to("cuda")
    gpu = generate(gpu_model, {"rgb": rgb}, ["tok_cam", "tok_gaze"], mode=mode, rng=PortableRng(3))
    for t in ("tok_cam", "tok_gaze"):
        assert gpu.tokens[t].device.type == "cuda"
        same = (gpu.tokens[t].cpu() == cpu.tokens[t]).float().mean()
        assert same >= 0.9, (t, float(same))
