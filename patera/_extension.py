"""Kept so code written against the old private path keeps importing: see :mod:`patera.extension`."""

from __future__ import annotations

from .extension import BaseExtension, resolve_configs

__all__ = ("BaseExtension", "resolve_configs")
