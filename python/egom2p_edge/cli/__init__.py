"""The ``egom2p`` command: a dispatcher whose subcommands are imported only when run."""
