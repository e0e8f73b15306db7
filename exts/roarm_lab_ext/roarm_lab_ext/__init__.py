"""Isaac Sim extension of roarm-lab (see ``config/extension.toml``); the Kit-facing code is in :mod:`.ui_extension`."""
