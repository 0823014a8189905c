"""``AiInterface``: chat completions from an OpenAI-compatible API, tools the model can call,
and ``@with_chat_context`` for handlers (SPEC §17.8)."""

from __future__ import annotations

import asyncio
import functools
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from .._background import run_sync_or_async
from ..exceptions import ImproperlyConfigured
from ..extension import AppLike, BaseExtension, resolve_configs
from ._provider import (
    ApiKey,
    ChatStream,
    ProviderSettings,
    ToolCall,
    check_header_value,
    load_httpx,
    parse_completion,
    send_chat_request,
)
from .exceptions import ChatContextNotFound, FailedToRunAiToolMethod
from .schema import build_function_schema

__all__ = ("TOOL_ATTR", "AiInterface", "tool")

F = TypeVar("F", bound=Callable[..., Any])
TOOL_ATTR = "__patera_ai_tool__"
#: keyword arguments of ``provider`` that configure the call rather than the request body
_CALL_OPTIONS = ("api_key", "organization", "project", "timeout", "api_base_url", "max_retries", "use_tools", "stream")


class _AiInterfaceConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    API_KEY: SecretStr
    API_BASE_URL: str = "https://api.openai.com/v1"
    ORGANIZATION_ID: str | None = None
    PROJECT_ID: str | None = None
    TIMEOUT: float = Field(30, gt=0)
    MODEL: str = "gpt-3.5-turbo"
    TEMPERATURE: float = 1.0
    RESPONSE_FORMAT: dict[str, Any] | None = {"type": "json_object"}
    TOOL_CHOICE: bool = False
    MAX_RETRIES: int = Field(0, ge=0, le=10)
    CHAT_CONTEXT_NAME: str = "chat_context"
    RETRY_BACKOFF: float = Field(0.5, ge=0)
    RETRY_MAX_DELAY: float = Field(30, ge=0)
    NICE_NAME: str | None = None


def tool(name: str | None = None, description: str | None = None) -> Callable[[F], F]:
    """Expose a method of an ``AiInterface`` subclass to the model as a function tool."""

    def mark(func: F) -> F:
        setattr(func, TOOL_ATTR, {"name": name or func.__name__, "description": description})
        return func

    return mark


class AiInterface(BaseExtension, ABC):
    """Subclass it, implement ``chat_context_loader``, add ``@tool`` methods, list it in EXTENSIONS."""

    def __init__(self, configs_name: str = "AI_INTERFACE", variable_prefix: str | None = None) -> None:
        self._configs_name = configs_name
        self._variable_prefix = variable_prefix or ""
        self._configs: dict[str, Any] | None = None
        self._tools: list[dict[str, Any]] = []
        self._tools_mapping: dict[str, Callable[..., Any]] = {}
        self._http: Any = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._collect_tools()

    def _collect_tools(self) -> None:
        seen: set[str] = set()
        for klass in type(self).__mro__:
            for attr, member in vars(klass).items():
                marker = getattr(member, TOOL_ATTR, None)
                if marker is None or attr in seen:
                    continue
                seen.add(attr)
                method = getattr(self, attr)
                if marker["name"] in self._tools_mapping:
                    raise ImproperlyConfigured(f"Two AI tools are named {marker['name']!r}")
                self._tools.append(build_function_schema(method, marker["name"], marker["description"]))
                self._tools_mapping[marker["name"]] = method

    def init_app(self, app: AppLike) -> None:
        raw = resolve_configs(app, self._configs_name, self._variable_prefix or None)
        if not raw:
            raise ImproperlyConfigured(
                f"Configurations for {self._variable_prefix}{self._configs_name} not found in app configurations"
            )
        key = raw.get("API_KEY")
        check_header_value("AI_INTERFACE API_KEY", key if isinstance(key, str) else "")
        configs = self.validate_configs(raw, _AiInterfaceConfig)
        for name in ("ORGANIZATION_ID", "PROJECT_ID"):
            if configs[name] is not None:
                check_header_value(f"AI_INTERFACE {name}", configs[name])
        self._app = app
        self._configs = configs
        app.add_extension(self)
        app.add_on_shutdown_method(self.aclose)

    # ------------------------------------------------------------------ properties

    @property
    def configs(self) -> dict[str, Any]:
        """The validated configuration; ``API_KEY`` is a ``SecretStr`` (prints as ``**********``)."""
        if self._configs is None:
            raise RuntimeError(f"{type(self).__name__} is not initialised: call init_app(app) first")
        return self._configs

    @property
    def chat_context_name(self) -> str:
        return str(self._configs["CHAT_CONTEXT_NAME"]) if self._configs else "chat_context"

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The function-tool schemas sent with ``use_tools=True``."""
        return list(self._tools)

    @property
    def tools_mapping(self) -> dict[str, Callable[..., Any]]:
        return dict(self._tools_mapping)

    # ------------------------------------------------------------------ HTTP

    async def _client(self) -> Any:
        """One connection pool per event loop, closed at app shutdown."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop or self._http.is_closed:
            self._http = load_httpx().AsyncClient()
            self._http_loop = loop
        return self._http

    async def aclose(self) -> None:
        client, self._http = self._http, None
        if client is not None and self._http_loop is asyncio.get_running_loop():
            await client.aclose()

    def _settings(self, overrides: dict[str, Any]) -> ProviderSettings:
        c = self.configs
        return ProviderSettings(
            api_key=ApiKey(overrides.get("api_key") or c["API_KEY"].get_secret_value()),
            base_url=overrides.get("api_base_url") or c["API_BASE_URL"],
            organization=overrides.get("organization", c["ORGANIZATION_ID"]),
            project=overrides.get("project", c["PROJECT_ID"]),
            timeout=float(overrides.get("timeout") or c["TIMEOUT"]),
            max_retries=int(overrides.get("max_retries", c["MAX_RETRIES"])),
            backoff=float(c["RETRY_BACKOFF"]),
            max_delay=float(c["RETRY_MAX_DELAY"]),
        )

    def _body(self, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(messages, list):
            raise TypeError("messages must be a list of {'role': ..., 'content': ...} dicts")
        c = self.configs
        options = {k: v for k, v in kwargs.items() if k not in _CALL_OPTIONS}
        body: dict[str, Any] = {
            "model": options.pop("model", c["MODEL"]),
            "messages": messages,
            "temperature": options.pop("temperature", c["TEMPERATURE"]),
        }
        response_format = options.pop("response_format", c["RESPONSE_FORMAT"])
        if response_format is not None:
            body["response_format"] = response_format
        tools = options.pop("tools", None)
        if tools is None and (kwargs.get("use_tools") or c["TOOL_CHOICE"]):
            tools = self._tools
        if tools:
            body["tools"] = tools
            body["tool_choice"] = options.pop("tool_choice", "auto")
        body.update(options)  # anything else (max_tokens, seed, …) goes to the provider as given
        return body

    async def provider(self, messages: list[dict[str, Any]], **kwargs: Any) -> Any:
        """One chat completion → ``(content | None, tool_calls | None, raw_response)``.

        ``stream=True`` returns a :class:`ChatStream` of content deltas instead.
        """
        settings = self._settings(kwargs)
        body = self._body(messages, kwargs)
        stream = bool(kwargs.get("stream"))
        if stream:
            body["stream"] = True
        logger.debug("AI chat completion: model={} messages={} stream={}", body["model"], len(messages), stream)
        response = await send_chat_request(await self._client(), settings, body, stream=stream)
        if stream:
            return ChatStream(response, settings.api_key)
        return parse_completion(response.content, settings.api_key)

    async def create_chat_completion(self, messages: list[dict[str, Any]], **kwargs: Any) -> Any:
        return await self.provider(messages, **kwargs)

    async def stream_chat_completion(self, messages: list[dict[str, Any]], **kwargs: Any) -> ChatStream:
        """``async for piece in await ai.stream_chat_completion(messages)``."""
        stream: ChatStream = await self.provider(messages, **{**kwargs, "stream": True})
        return stream

    # ------------------------------------------------------------------ tools

    def build_function_schema(
        self, func: Callable[..., Any], func_name: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        return build_function_schema(func, func_name, description)

    async def envoke_ai_tool(self, tool_name: str, *args: Any, **kwargs: Any) -> Any:
        """Run the tool registered as ``tool_name``; its failure → ``FailedToRunAiToolMethod`` (422)."""
        method = self._tools_mapping.get(tool_name)
        if method is None:
            raise ValueError(f"Tool method named {tool_name} is not registered with the AI interface")
        try:
            return await run_sync_or_async(method, *args, **kwargs)
        except Exception as exc:
            raise FailedToRunAiToolMethod(f"Failed to run AI tool {tool_name}", tool_name, *args, **kwargs) from exc

    async def invoke_ai_tool(self, tool_name: str, *args: Any, **kwargs: Any) -> Any:
        return await self.envoke_ai_tool(tool_name, *args, **kwargs)

    async def run_tool_call(self, tool_call: ToolCall | dict[str, Any]) -> dict[str, Any]:
        """Run one tool call from the model and return the ``{"role": "tool", …}`` message answering it."""
        call = tool_call if isinstance(tool_call, ToolCall) else ToolCall.model_validate(tool_call)
        name = call.function.name
        try:
            arguments = json.loads(call.function.arguments or "{}")
        except ValueError:
            raise FailedToRunAiToolMethod(f"AI tool {name} got arguments that are not JSON", name) from None
        if not isinstance(arguments, dict):
            raise FailedToRunAiToolMethod(f"AI tool {name} needs an object of arguments", name)
        result = await self.envoke_ai_tool(name, **arguments)
        content = result if isinstance(result, str) else json.dumps(result, default=str)
        return {"role": "tool", "tool_call_id": call.id, "content": content}

    # ------------------------------------------------------------------ chat context

    @abstractmethod
    async def chat_context_loader(self, req: Any, *args: Any, **kwargs: Any) -> Any | None:
        """Load the chat context (e.g. a database row) for ``req``; ``None`` → 404."""

    def with_chat_context(self, func: F) -> F:
        """Inject ``chat_context_loader(req)`` as ``CHAT_CONTEXT_NAME``; ``None`` → ``ChatContextNotFound``."""
        interface = self

        @functools.wraps(func)
        async def wrapper(ctrl: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
            context = await run_sync_or_async(interface.chat_context_loader, req)
            if context is None:
                raise ChatContextNotFound("Chat context not found")
            kwargs[interface.chat_context_name] = context
            return await run_sync_or_async(func, ctrl, req, *args, **kwargs)

        return wrapper  # type: ignore[return-value]
