"""``egom2p_edge.devices``: frame sources (Aria, HoloLens 2, video files, synthetic) and the bus."""
