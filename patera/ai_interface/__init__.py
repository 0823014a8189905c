"""AI interface (SPEC §17.8): chat completions from any OpenAI-compatible API over httpx
(``pip install "patera[ai_interface]"``), tools the model can call, streaming, and
``@with_chat_context`` for handlers."""

from __future__ import annotations

from ._provider import ChatStream, ToolCall, ToolCallFunction
from .exceptions import AiProviderError, ChatContextNotFound, FailedToRunAiToolMethod
from .extension import AiInterface, tool
from .schema import build_function_schema

__all__ = (
    "AiInterface",
    "AiProviderError",
    "ChatContextNotFound",
    "ChatStream",
    "FailedToRunAiToolMethod",
    "ToolCall",
    "ToolCallFunction",
    "build_function_schema",
    "tool",
)
