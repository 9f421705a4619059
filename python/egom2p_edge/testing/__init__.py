"""Testing helpers shipped with the SDK: parity against the official EgoM2P code."""

from egom2p_edge.testing.parity import check_parity

__all__ = ["check_parity"]
