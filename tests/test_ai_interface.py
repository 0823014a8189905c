"""AiInterface (SPEC §17.8) against a real OpenAI-compatible server: a patera app served by
hypercorn on a free loopback port (tests/_openai_server.py). No mocks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from loguru import logger
from pydantic import BaseModel

from patera import Patera, Request, Response
from patera.ai_interface import (
    AiInterface,
    AiProviderError,
    ChatContextNotFound,
    FailedToRunAiToolMethod,
    ToolCall,
    _provider,
    build_function_schema,
    tool,
)
from patera.controller import Controller, get, path
from patera.exceptions import ImproperlyConfigured
from patera.testing import PateraTestClient
from tests._openai_server import ProviderState, openai_compatible_app
from tests._servers import hypercorn_server
from tests.conftest import build_app

API_KEY = "sk-test-7f3a9c1e5b2d4608a1b2c3d4e5f60718"
CHATS = {1: {"id": 1, "title": "weather"}}


class Interface(AiInterface):
    async def chat_context_loader(self, req: Request) -> dict[str, Any] | None:
        chat_id = req.route_parameters.get("chat_id")
        return CHATS.get(chat_id) if chat_id is not None else None

    @tool(name="get_weather")
    async def weather(self, city: str, days: int = 1) -> dict[str, Any]:
        """Weather forecast for a city.

        :param city: the city name
        :param days: how many days ahead
        """
        return {"city": city, "days": days, "sky": "sunny"}

    @tool()
    def add(self, a: int, b: int) -> int:
        """Add two numbers.

        Args:
            a: the first number
            b: the second number
        """
        return a + b

    @tool(name="explode", description="Always fails")
    async def explode(self) -> None:
        raise RuntimeError("kaboom")


@pytest.fixture
async def provider() -> AsyncIterator[tuple[ProviderState, str]]:
    state = ProviderState()
    async with hypercorn_server(openai_compatible_app(state)) as port:
        yield state, f"http://127.0.0.1:{port}/v1"


def make_ai(base_url: str, **config: Any) -> tuple[Interface, Patera]:
    application = build_app(
        AI_INTERFACE={"API_KEY": API_KEY, "API_BASE_URL": base_url, "RETRY_BACKOFF": 0.01, **config}
    )
    ai = Interface()
    ai.init_app(application)
    return ai, application


USER = [{"role": "user", "content": "hello there"}]


# ---------------------------------------------------------------------- the request


async def test_request_headers_and_body(provider: tuple[ProviderState, str]) -> None:
    state, base = provider
    ai, _ = make_ai(base, ORGANIZATION_ID="org-1", PROJECT_ID="proj-9", MODEL="test-model", TEMPERATURE=0.2)
    content, calls, raw = await ai.create_chat_completion(USER)
    assert json.loads(content) == {"echo": "hello there", "model": "test-model"}
    assert calls is None and raw["choices"][0]["finish_reason"] == "stop"
    sent = state.requests[0]
    assert sent["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert sent["headers"]["openai-organization"] == "org-1" and sent["headers"]["openai-project"] == "proj-9"
    assert sent["headers"]["content-type"] == "application/json"
    assert sent["body"] == {
        "model": "test-model",
        "messages": USER,
        "temperature": 0.2,
        "response_format": {"type": "json_object"},
    }
    await ai.aclose()


async def test_defaults_overrides_and_extra_body_fields(provider: tuple[ProviderState, str]) -> None:
    state, base = provider
    ai, _ = make_ai(base)
    await ai.provider(USER, model="other", temperature=0, response_format=None, max_tokens=5)
    body = state.requests[0]["body"]
    assert body == {"model": "other", "messages": USER, "temperature": 0, "max_tokens": 5}
    assert "openai-organization" not in state.requests[0]["headers"]
    await ai.aclose()


@pytest.mark.parametrize("how", ["use_tools", "TOOL_CHOICE"])
async def test_tools_are_sent_when_asked(provider: tuple[ProviderState, str], how: str) -> None:
    state, base = provider
    ai, _ = make_ai(base, **({"TOOL_CHOICE": True} if how == "TOOL_CHOICE" else {}))
    await ai.create_chat_completion(USER, **({"use_tools": True} if how == "use_tools" else {}))
    body = state.requests[0]["body"]
    assert body["tool_choice"] == "auto"
    assert sorted(t["function"]["name"] for t in body["tools"]) == ["add", "explode", "get_weather"]
    await ai.aclose()


# ---------------------------------------------------------------------- tools


async def test_full_tool_call_round_trip(provider: tuple[ProviderState, str]) -> None:
    state, base = provider
    ai, _ = make_ai(base)
    messages: list[dict[str, Any]] = [{"role": "user", "content": "call get_weather city=Ljubljana days=2"}]
    content, calls, raw = await ai.create_chat_completion(messages, use_tools=True)
    assert content is None and calls is not None and len(calls) == 1
    assert calls[0].function.name == "get_weather"
    assert json.loads(calls[0].function.arguments) == {"city": "Ljubljana", "days": 2}

    messages.append(raw["choices"][0]["message"])
    for call in calls:
        messages.append(await ai.run_tool_call(call))
    content, calls, _ = await ai.create_chat_completion(messages, use_tools=True)

    assert calls is None
    assert content == 'The tool said: {"city": "Ljubljana", "days": 2, "sky": "sunny"}'
    tool_message = state.requests[1]["body"]["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_1"
    await ai.aclose()


async def test_envoke_and_invoke_tools() -> None:
    ai = Interface()
    assert await ai.envoke_ai_tool("add", 2, b=3) == 5  # a sync tool runs in the thread pool
    assert (await ai.invoke_ai_tool("get_weather", city="Oslo"))["sky"] == "sunny"
    with pytest.raises(ValueError, match="not registered"):
        await ai.envoke_ai_tool("nope")
    with pytest.raises(FailedToRunAiToolMethod) as info:
        await ai.envoke_ai_tool("explode")
    assert info.value.status_code == 422 and info.value.method_name == "explode"
    assert isinstance(info.value.__cause__, RuntimeError)


@pytest.mark.parametrize(
    "arguments", ['{"city": ', "[1, 2]", '{"town": "Oslo"}'], ids=["not-json", "not-an-object", "wrong-name"]
)
async def test_bad_tool_arguments_from_the_model_are_a_422(arguments: str) -> None:
    ai = Interface()
    call = ToolCall.model_validate({"id": "c1", "function": {"name": "get_weather", "arguments": arguments}})
    with pytest.raises(FailedToRunAiToolMethod) as info:
        await ai.run_tool_call(call)
    assert info.value.status_code == 422


def test_tool_schemas_from_hints_and_docstrings() -> None:
    schemas = {t["function"]["name"]: t["function"] for t in Interface().tools}
    weather = schemas["get_weather"]
    assert weather["description"] == "Weather forecast for a city."
    assert weather["parameters"] == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "the city name"},
            "days": {"type": "integer", "description": "how many days ahead"},
        },
        "required": ["city"],
        "additionalProperties": False,
    }
    assert schemas["add"]["parameters"]["properties"]["b"] == {"type": "integer", "description": "the second number"}
    assert schemas["explode"]["description"] == "Always fails"


class Place(BaseModel):
    name: str
    lat: float


def everything(
    self: Any,
    s: str,
    i: int,
    f: float,
    b: bool,
    items: list[str],
    d: dict[str, int],
    place: Place,
    maybe: int | None = None,
    other: bytes = b"",
    untyped=None,  # type: ignore[no-untyped-def]
) -> None:
    """Summary line
    continues here.

    Args:
        s (str): a string
            over two lines
        place: where

    Returns:
        nothing
    """


def test_build_function_schema_type_mapping() -> None:
    fn = build_function_schema(everything, "everything", None)["function"]
    props = fn["parameters"]["properties"]
    assert fn["description"] == "Summary line continues here."
    assert {k: v.get("type") for k, v in props.items()} == {
        "s": "string",
        "i": "integer",
        "f": "number",
        "b": "boolean",
        "items": "array",
        "d": "object",
        "place": "object",
        "maybe": "integer",
        "other": "string",
        "untyped": "string",
    }
    assert props["items"]["items"] == {"type": "string"}
    assert props["place"]["properties"]["lat"]["type"] == "number"
    assert props["s"]["description"] == "a string over two lines" and props["place"]["description"] == "where"
    assert fn["parameters"]["required"] == ["s", "i", "f", "b", "items", "d", "place"]
    assert "self" not in props


# ---------------------------------------------------------------------- retries and failures


@pytest.fixture
def waits() -> Iterator[list[float]]:
    """The delays the retry loop waited, read from its WARNING records."""
    delays: list[float] = []

    def sink(message: Any) -> None:
        delays.append(message.record["extra"]["retry_in"])

    sink_id = logger.add(sink, level="WARNING", filter=lambda record: "retry_in" in record["extra"])
    yield delays
    logger.remove(sink_id)


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_retryable_statuses_are_retried(
    provider: tuple[ProviderState, str], waits: list[float], status: int
) -> None:
    state, base = provider
    ai, _ = make_ai(base, MAX_RETRIES=2)
    state.script = [{"status": status}, {"status": status}]
    content, _, _ = await ai.create_chat_completion(USER)
    assert content is not None and len(state.requests) == 3
    assert waits == [0.01, 0.02]  # RETRY_BACKOFF * 2**n
    await ai.aclose()


async def test_retry_after_is_honoured(provider: tuple[ProviderState, str], waits: list[float]) -> None:
    state, base = provider
    ai, _ = make_ai(base, MAX_RETRIES=1)
    state.script = [{"status": 429, "headers": {"Retry-After": "0.25"}}]
    assert (await ai.create_chat_completion(USER))[0] is not None
    assert waits == [0.25]
    await ai.aclose()


async def test_a_retry_after_beyond_the_bound_is_not_waited_for(
    provider: tuple[ProviderState, str], waits: list[float]
) -> None:
    state, base = provider
    ai, _ = make_ai(base, MAX_RETRIES=3, RETRY_MAX_DELAY=5)
    state.script = [{"status": 429, "headers": {"Retry-After": "3600"}}]
    with pytest.raises(AiProviderError, match="retry after 3600s") as info:
        await ai.create_chat_completion(USER)
    assert waits == [] and len(state.requests) == 1 and info.value.provider_status == 429
    await ai.aclose()


async def test_retries_are_limited(provider: tuple[ProviderState, str], waits: list[float]) -> None:
    state, base = provider
    ai, _ = make_ai(base, MAX_RETRIES=1)
    state.script = [{"status": 500}] * 3
    with pytest.raises(AiProviderError) as info:
        await ai.create_chat_completion(USER)
    assert (info.value.status_code, info.value.provider_status, info.value.attempts) == (502, 500, 2)
    assert len(state.requests) == 2 and len(waits) == 1
    await ai.aclose()


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_client_errors_are_not_retried(
    provider: tuple[ProviderState, str], waits: list[float], status: int
) -> None:
    state, base = provider
    ai, _ = make_ai(base, MAX_RETRIES=3)
    state.script = [{"status": status, "message": "model not found"}]
    with pytest.raises(AiProviderError, match=f"answered {status}: model not found") as info:
        await ai.create_chat_completion(USER)
    assert info.value.status_code == 502 and len(state.requests) == 1 and waits == []
    await ai.aclose()


async def test_timeouts_fail_and_are_retried(provider: tuple[ProviderState, str], waits: list[float]) -> None:
    state, base = provider
    ai, _ = make_ai(base, TIMEOUT=0.2)
    state.script = [{"sleep": 1.0}]
    with pytest.raises(AiProviderError, match=r"did not answer within 0\.2s") as info:
        await ai.create_chat_completion(USER)
    assert info.value.provider_status is None
    state.script = [{"sleep": 1.0}]
    assert (await ai.create_chat_completion(USER, max_retries=1))[0] is not None
    assert len(state.requests) == 3 and len(waits) == 1
    await ai.aclose()


async def test_unreachable_provider_is_a_502() -> None:
    ai, _ = make_ai("http://127.0.0.1:9/v1", MAX_RETRIES=0)  # the discard port: nothing listens
    with pytest.raises(AiProviderError, match="could not be reached") as info:
        await ai.create_chat_completion(USER)
    assert info.value.status_code == 502
    await ai.aclose()


async def test_malformed_json_is_a_502_without_retry(provider: tuple[ProviderState, str], waits: list[float]) -> None:
    state, base = provider
    ai, _ = make_ai(base, MAX_RETRIES=3)
    state.script = [{"malformed": True}]
    with pytest.raises(AiProviderError, match="unreadable chat completion"):
        await ai.create_chat_completion(USER)
    assert len(state.requests) == 1 and waits == []
    await ai.aclose()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("2", 2.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        ("soon", None),
        (None, None),
        ("nan", None),
    ],
)
def test_retry_after_parsing(header: str | None, expected: float | None) -> None:
    assert _provider.retry_after_seconds(header) == expected


# ---------------------------------------------------------------------- the key stays secret


async def test_the_api_key_never_reaches_logs_or_errors(
    provider: tuple[ProviderState, str], waits: list[float]
) -> None:
    state, base = provider
    ai, _ = make_ai(base, MAX_RETRIES=1, TIMEOUT=0.2)
    records: list[str] = []
    sink = logger.add(records.append, level="TRACE", backtrace=True, diagnose=True)
    errors: list[AiProviderError] = []
    try:
        for script in (
            [{"echo_auth": True}],  # a provider quoting the Authorization header back
            [{"status": 500, "message": f"upstream rejected {API_KEY}"}] * 2,
            [{"sleep": 1.0}, {"sleep": 1.0}],
            [{"malformed": True}],
        ):
            state.script = list(script)
            try:
                await ai.create_chat_completion(USER)
            except AiProviderError as exc:
                errors.append(exc)
                logger.opt(exception=exc).error("AI call failed")
    finally:
        logger.remove(sink)
        await ai.aclose()
    assert len(errors) == 4
    assert "***" in errors[0].message and "***" in errors[1].message
    texts = [str(e) for e in errors] + [repr(e) for e in errors] + records + [repr(ai.configs), str(ai.configs)]
    assert records and not [t for t in texts if API_KEY in t]


@pytest.mark.parametrize("key", ["sk-abc\r\nX-Evil: 1", "", 42])
def test_a_bad_api_key_is_refused_without_echoing_it(key: Any) -> None:
    application = build_app(AI_INTERFACE={"API_KEY": key})
    with pytest.raises(ValueError) as info:
        Interface().init_app(application)
    assert "sk-abc" not in str(info.value)


def test_other_config_errors_do_not_echo_the_key() -> None:
    application = build_app(AI_INTERFACE={"API_KEY": API_KEY, "TIMEOUT": "soon", "MAX_RETRIES": -1})
    with pytest.raises(ValueError, match="Invalid configuration for AI_INTERFACE") as info:
        Interface().init_app(application)
    assert API_KEY not in str(info.value)


def test_missing_configuration() -> None:
    with pytest.raises(ImproperlyConfigured):
        Interface().init_app(build_app())


# ---------------------------------------------------------------------- streaming


async def test_stream_yields_content_deltas(provider: tuple[ProviderState, str]) -> None:
    state, base = provider
    ai, _ = make_ai(base)
    stream = await ai.stream_chat_completion([{"role": "user", "content": "tell me a story please"}])
    pieces = [piece async for piece in stream]
    expected = json.dumps({"echo": "tell me a story please", "model": "gpt-3.5-turbo"})
    assert len(pieces) > 3 and "".join(pieces) == expected == stream.content
    assert stream.finish_reason == "stop" and state.requests[0]["body"]["stream"] is True
    async with await ai.create_chat_completion(USER, stream=True) as again:
        assert "".join([p async for p in again]) == again.content != ""
    await ai.aclose()


async def test_stream_is_retried_before_the_first_byte(provider: tuple[ProviderState, str], waits: list[float]) -> None:
    state, base = provider
    ai, _ = make_ai(base, MAX_RETRIES=1)
    state.script = [{"status": 503}]
    stream = await ai.stream_chat_completion(USER)
    assert "".join([p async for p in stream]) == stream.content != ""
    assert len(state.requests) == 2
    await ai.aclose()


async def test_malformed_stream_event_is_a_provider_error(provider: tuple[ProviderState, str]) -> None:
    state, base = provider
    ai, _ = make_ai(base)
    state.script = [{"bad_stream": True}]
    stream = await ai.stream_chat_completion(USER)
    with pytest.raises(AiProviderError, match="unreadable stream event"):
        async for _ in stream:
            pass
    await ai.aclose()


# ---------------------------------------------------------------------- in an app


def chat_app(base: str) -> tuple[Interface, Patera]:
    ai, application = make_ai(base)

    @path("/chats")
    class Chats(Controller):
        @get("/<int:chat_id>")
        @ai.with_chat_context
        async def ask(self, req: Request, chat_id: int, chat_context: dict[str, Any]) -> Response[Any]:
            content, _, _ = await ai.create_chat_completion([{"role": "user", "content": chat_context["title"]}])
            return req.response.json({"chat": chat_context["id"], "answer": json.loads(content or "{}")})

        @get("/<int:chat_id>/stream")
        @ai.with_chat_context
        async def stream(self, req: Request, chat_id: int, chat_context: dict[str, Any]) -> Response[Any]:
            deltas = await ai.stream_chat_completion([{"role": "user", "content": "stream it"}])
            return req.response.stream_text(deltas)

    application.register_controller(Chats)
    return ai, application


async def test_with_chat_context_in_an_endpoint(provider: tuple[ProviderState, str]) -> None:
    state, base = provider
    _, application = chat_app(base)
    async with PateraTestClient(application, raise_app_exceptions=False) as client:
        res = await client.get("/chats/1")
        assert res.status_code == 200
        assert res.json() == {"chat": 1, "answer": {"echo": "weather", "model": "gpt-3.5-turbo"}}
        missing = await client.get("/chats/2")
        assert (missing.status_code, missing.json()) == (404, {"status": "error", "message": "Chat context not found"})
        streamed = await client.get("/chats/1/stream")
        assert json.loads(streamed.text) == {"echo": "stream it", "model": "gpt-3.5-turbo"}
        state.script = [{"status": 400, "message": "context length exceeded"}]
        failed = await client.get("/chats/1")
        assert failed.status_code == 502 and "context length exceeded" in failed.json()["message"]
        assert API_KEY not in failed.text


def test_exceptions_and_alias_module() -> None:
    import patera.aiinterface as alias

    assert alias.AiInterface is AiInterface and alias.tool is tool
    assert ChatContextNotFound().status_code == 404 and AiProviderError().status_code == 502


def test_missing_httpx_names_the_extra() -> None:
    probe = (
        "import sys; sys.modules['httpx'] = None\n"
        "from patera.ai_interface import _provider\n"
        "try:\n    _provider.load_httpx()\nexcept ImportError as exc:\n    print(type(exc).__name__, exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.startswith("MissingDependency") and 'pip install "patera[ai_interface]"' in out
