"""ketaplan: plan a ketamine infusion treatment series."""

from __future__ import annotations

# A literal, so `ketaplan --version` needs no importlib.metadata at start-up.
__version__ = "0.1.0"
