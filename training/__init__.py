"""``egom2p_edge.training``: data curation, the synthetic generator, token databases, trainers."""
