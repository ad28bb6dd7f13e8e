"""Buurtbeeld application shell: settings (read by every layer) and the CLI (the top layer)."""
