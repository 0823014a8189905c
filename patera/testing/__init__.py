"""``PateraTestClient``: drive an app in-process with httpx, lifespan included."""

from __future__ import annotations

from .client import PateraTestClient, PyJoltTestClient, WebSocketRejected, WebSocketSession

__all__ = ("PateraTestClient", "PyJoltTestClient", "WebSocketRejected", "WebSocketSession")
