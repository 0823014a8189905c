"""Alias of :mod:`patera.exceptions` (the original README imports it under this name)."""

from .exceptions import *  # noqa: F403
from .exceptions import __all__  # noqa: F401
