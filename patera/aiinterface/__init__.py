"""Alias of :mod:`patera.ai_interface` (the original's second spelling)."""

from __future__ import annotations

from ..ai_interface import *  # noqa: F403 - an alias package: exactly ai_interface.__all__
from ..ai_interface import __all__ as __all__
