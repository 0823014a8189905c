"""Errors of the AI interface; each renders as the HTTP status a client should see."""

from __future__ import annotations

from typing import Any

from ..exceptions import BaseHttpException

__all__ = ("AiProviderError", "ChatContextNotFound", "FailedToRunAiToolMethod")


class ChatContextNotFound(BaseHttpException):
    """``chat_context_loader`` returned ``None``. Answers 404."""

    default_status_code = 404
    default_message = "Chat context not found"

    def __init__(self, msg: str = "", status_code: int = 404, **kwargs: Any) -> None:
        super().__init__(msg, status_code, **kwargs)


class FailedToRunAiToolMethod(BaseHttpException):
    """A tool raised, or the model sent arguments it cannot take. Answers 422."""

    default_status_code = 422
    default_message = "Failed to run AI tool"

    def __init__(self, msg: str = "", method_name: str = "", *args: Any, status_code: int = 422, **kwargs: Any) -> None:
        super().__init__(msg, status_code)
        self.method_name = method_name
        self.tool_args = args
        self.tool_kwargs = kwargs


class AiProviderError(BaseHttpException):
    """The provider failed, answered an error or something unreadable. Answers 502.

    ``provider_status`` is the provider's HTTP status (``None`` for timeouts and connection
    failures); ``attempts`` counts the requests made. The message never contains the API key.
    """

    default_status_code = 502
    default_message = "AI provider error"

    def __init__(self, message: str = "", *, provider_status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.provider_status = provider_status
        self.attempts = attempts
