"""Alias of :mod:`patera.ai_interface` (the original's second spelling)."""

from __future__ import annotations

from ..ai_interface import *
from ..ai_interface import __all__ as __all__
