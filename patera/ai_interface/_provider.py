"""The OpenAI-compatible wire protocol: one POST to ``/chat/completions`` with bounded retries,
and server-sent-event streams. httpx is imported on first use (extra ``ai_interface``).

The API key travels only in the ``Authorization`` header of the request httpx builds; every
text that could reach a log or an exception is passed through :func:`scrub` first.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self

from loguru import logger
from pydantic import BaseModel, ValidationError

from ..exceptions import MissingDependency
from .exceptions import AiProviderError

__all__ = (
    "ApiKey",
    "ChatStream",
    "ProviderSettings",
    "ToolCall",
    "ToolCallFunction",
    "check_header_value",
    "load_httpx",
    "parse_completion",
    "retry_after_seconds",
    "scrub",
    "send_chat_request",
)

_ERROR_SNIPPET = 300


def load_httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependency("httpx", extra="ai_interface", feature="AiInterface") from exc
    return httpx


class ToolCallFunction(BaseModel):
    name: str
    arguments: str = "{}"


class ToolCall(BaseModel):
    """One tool call the model asked for (attribute names as in the ``openai`` package)."""

    id: str
    type: str = "function"
    function: ToolCallFunction


def _is_header_safe(value: object) -> bool:
    return isinstance(value, str) and bool(value) and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)


def check_header_value(name: str, value: str) -> str:
    if not _is_header_safe(value):
        raise ValueError(f"{name} must be a non-empty string without control characters")
    return value


class ApiKey:
    """The API key, kept out of every ``repr``/``str`` (so out of tracebacks with locals, too)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        ok = _is_header_safe(value)
        if not ok:
            raise ValueError("API_KEY must be a non-empty string without control characters")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "ApiKey('***')"

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class ProviderSettings:
    """Everything one call needs; ``repr`` leaves the key out."""

    api_key: ApiKey
    base_url: str
    organization: str | None
    project: str | None
    timeout: float
    max_retries: int
    backoff: float
    max_delay: float

    def __repr__(self) -> str:
        return f"ProviderSettings(base_url={self.base_url!r}, timeout={self.timeout}, max_retries={self.max_retries})"

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def headers(self) -> dict[str, str]:
        headers = {"Authorization": "Bearer " + self.api_key.reveal()}
        if self.organization:
            headers["OpenAI-Organization"] = check_header_value("ORGANIZATION_ID", self.organization)
        if self.project:
            headers["OpenAI-Project"] = check_header_value("PROJECT_ID", self.project)
        return headers


def scrub(text: str, secret: ApiKey) -> str:
    """``text`` with every occurrence of the key masked."""
    return text.replace(secret.reveal(), "***")


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); ``None`` if absent/invalid."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _error_text(body: bytes, secret: ApiKey) -> str:
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and error.get("message"):
            text = str(error["message"])
        elif isinstance(error, str):
            text = error
    except ValueError:
        pass
    text = scrub(" ".join(text.split()), secret)
    return text[:_ERROR_SNIPPET] + ("…" if len(text) > _ERROR_SNIPPET else "")


async def send_chat_request(client: Any, settings: ProviderSettings, body: dict[str, Any], *, stream: bool) -> Any:
    """POST ``body``; retry timeouts, connection failures, 429 and 5xx up to ``max_retries`` times.

    Waits ``backoff * 2**n`` seconds, or what ``Retry-After`` asks for; a wait longer than
    ``max_delay`` is not made (the call fails instead). Returns the httpx response: read for
    ``stream=False``, open for ``stream=True`` (the caller closes it).
    """
    httpx = load_httpx()
    secret = settings.api_key
    attempt = 0
    while True:
        attempt += 1
        retry_after: float | None = None
        status: int | None = None
        try:
            request = client.build_request(
                "POST", settings.url, json=body, headers=settings.headers(), timeout=settings.timeout
            )
            response = await client.send(request, stream=stream)
        except httpx.TimeoutException:
            problem = f"did not answer within {settings.timeout:g}s"
        except httpx.TransportError as exc:
            problem = f"could not be reached ({type(exc).__name__})"
        else:
            status = response.status_code
            if 200 <= status < 300:
                return response
            raw = await response.aread()
            await response.aclose()
            problem = f"answered {status}: {_error_text(raw, secret)}"
            if status != 429 and status < 500:
                raise AiProviderError(f"AI provider {problem}", provider_status=status, attempts=attempt)
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
        if attempt > settings.max_retries:
            raise AiProviderError(
                f"AI provider {problem} (gave up after {attempt} attempt(s))", provider_status=status, attempts=attempt
            )
        delay = retry_after if retry_after is not None else settings.backoff * 2 ** (attempt - 1)
        if delay > settings.max_delay:
            raise AiProviderError(
                f"AI provider {problem}; it asked to retry after {delay:g}s,"
                f" more than RETRY_MAX_DELAY ({settings.max_delay:g}s)",
                provider_status=status,
                attempts=attempt,
            )
        logger.bind(retry_in=delay).warning(
            "AI provider {}; retry {}/{} in {:.2f}s", problem, attempt, settings.max_retries, delay
        )
        await asyncio.sleep(delay)


def parse_completion(payload: bytes, secret: ApiKey) -> tuple[str | None, list[ToolCall] | None, dict[str, Any]]:
    """``(content, tool_calls, raw)`` from a chat-completion body; anything unreadable → ``AiProviderError``."""
    try:
        raw = json.loads(payload)
        message = raw["choices"][0]["message"]
        calls = [ToolCall.model_validate(call) for call in message.get("tool_calls") or ()]
        content = message.get("content")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, ValidationError):
        snippet = scrub(payload[:120].decode("utf-8", "replace"), secret)
        raise AiProviderError(f"AI provider sent an unreadable chat completion: {snippet!r}") from None
    if not isinstance(raw, dict):
        raise AiProviderError("AI provider sent an unreadable chat completion")
    return (content if isinstance(content, str) and content else None), (calls or None), raw


class ChatStream:
    """Content deltas of a streamed completion: ``async for piece in stream``.

    After iteration ``content`` holds the whole text and ``finish_reason`` the last reason
    sent. Iterating to the end, ``aclose()`` or ``async with`` releases the connection.
    """

    def __init__(self, response: Any, secret: ApiKey) -> None:
        self._response = response
        self._secret = secret
        self.content = ""
        self.finish_reason: str | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._response.aclose()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._deltas()

    async def _events(self) -> AsyncIterator[str]:
        """The ``data`` of each server-sent event (multi-line data joined with newlines)."""
        data: list[str] = []
        async for line in self._response.aiter_lines():
            if not line:
                if data:
                    yield "\n".join(data)
                    data = []
            elif line.startswith(":"):
                continue
            else:
                field, _, value = line.partition(":")
                if field == "data":
                    data.append(value.removeprefix(" "))
        if data:
            yield "\n".join(data)

    async def _deltas(self) -> AsyncIterator[str]:
        httpx = load_httpx()
        try:
            if self._response.headers.get("content-type", "").startswith("application/json"):
                content, _, raw = parse_completion(await self._response.aread(), self._secret)
                self.finish_reason = raw["choices"][0].get("finish_reason")
                if content:
                    self.content = content
                    yield content
                return
            async for data in self._events():
                if data.strip() == "[DONE]":
                    break
                try:
                    choice = (json.loads(data).get("choices") or [{}])[0]
                    piece = (choice.get("delta") or {}).get("content")
                except (ValueError, AttributeError, IndexError, TypeError):
                    raise AiProviderError(
                        f"AI provider sent an unreadable stream event: {scrub(data[:120], self._secret)!r}"
                    ) from None
                if choice.get("finish_reason"):
                    self.finish_reason = choice["finish_reason"]
                if isinstance(piece, str) and piece:
                    self.content += piece
                    yield piece
        except httpx.TimeoutException:
            raise AiProviderError("AI provider stream stalled (read timeout)") from None
        except httpx.TransportError as exc:
            raise AiProviderError(f"AI provider stream broke off ({type(exc).__name__})") from None
        finally:
            await self.aclose()
