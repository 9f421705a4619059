"""The token database: clips tokenised once, stored in shards, read back as masked training batches.

Usage::

    from egom2p_edge.training.tokens import (
        MaskedTokenDataset, TokenDatabase, build_token_database, load_tokenizer_set)

    tok = load_tokenizer_set({"cam": "cam_tok/", "gaze": "gaze_tok/", "video": "video_tok/"})
    build_token_database("clips/synth", "tokens/", tok)       # shards + manifest.json
    db = TokenDatabase("tokens/")
    ds = MaskedTokenDataset(db, {"tok_cam": 30, ...}, MaskingConfig(256, 256), seed=0)
    ds[0]["tok_cam"]["tensor"]                                # official mod_dict layout

Modules: ``inputs`` (clip -> tokenizer input, the official preprocessing), ``tokenizers``
(loading them), ``build`` (tokenising a clip dataset), ``format``/``writer``/``reader`` (the
on-disk database), ``batches`` (masking and the backbone's batch layout).
"""

from egom2p_edge.training.tokens.batches import (
    MaskedTokenDataset,
    empty_mod_dict,
    masked_sample,
    sample_rng,
    to_model_batch,
)
from egom2p_edge.training.tokens.build import build_token_database, tokenize_clips
from egom2p_edge.training.tokens.reader import (
    ModalityInfo,
    TokenDatabase,
    TokenSample,
    is_token_database,
)
from egom2p_edge.training.tokens.tokenizers import (
    TokenizerSet,
    load_tokenizer_set,
    load_video_tokenizer,
    parse_tokenizer_args,
)
from egom2p_edge.training.tokens.writer import TokenDatabaseWriter

__all__ = [
    "MaskedTokenDataset",
    "ModalityInfo",
    "TokenDatabase",
    "TokenDatabaseWriter",
    "TokenSample",
    "TokenizerSet",
    "build_token_database",
    "empty_mod_dict",
    "is_token_database",
    "load_tokenizer_set",
    "load_video_tokenizer",
    "masked_sample",
    "parse_tokenizer_args",
    "sample_rng",
    "to_model_batch",
    "tokenize_clips",
]
