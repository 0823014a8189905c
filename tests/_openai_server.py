"""A small OpenAI-compatible chat-completions server, written with patera, for the AI tests.

It answers deterministically:
- the last message has role ``tool`` → ``"The tool said: <its content>"``;
- tools were sent and the user wrote ``call <tool> key=value ...`` → one tool call with those
  arguments (digits become integers);
- otherwise → JSON text ``{"echo": <last user content>, "model": <model>}``.
With ``"stream": true`` in the body the answer comes as server-sent events, a few words each.

Tests script the next answers with ``ProviderState.script`` (consumed one per request):
``{"status": 429, "headers": {...}}``, ``{"status": 500}``, ``{"sleep": 2.0}`` (then answer),
``{"malformed": True}``, ``{"echo_auth": True}`` (a 401 quoting the Authorization header back),
``{"bad_stream": True}``. Every request's headers and body are kept in ``requests``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from patera import Patera, Request, Response
from patera.controller import Controller, path, post
from tests.conftest import build_app


class ProviderState:
    def __init__(self) -> None:
        self.script: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []


def _answer(body: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]] | None]:
    messages = body.get("messages") or [{}]
    last = messages[-1]
    if last.get("role") == "tool":
        return f"The tool said: {last.get('content')}", None
    text = str(last.get("content") or "")
    names = {t["function"]["name"] for t in body.get("tools") or ()}
    words = text.split()
    if len(words) >= 2 and words[0] == "call" and words[1] in names:
        arguments: dict[str, Any] = {}
        for pair in words[2:]:
            key, _, value = pair.partition("=")
            arguments[key] = int(value) if value.isdigit() else value
        call = {"id": f"call_{len(messages)}", "type": "function",
                "function": {"name": words[1], "arguments": json.dumps(arguments)}}
        return None, [call]
    return json.dumps({"echo": text, "model": body.get("model")}), None


def _completion(body: dict[str, Any], content: str | None, calls: list[dict[str, Any]] | None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


async def _sse(content: str, bad: bool) -> AsyncIterator[str]:
    yield ": keep-alive comment\n\n"
    for piece in re.findall(r"\S+\s*", content):
        chunk = {
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
        }
        yield f"data: {json.dumps(chunk)}\n\n"
        await asyncio.sleep(0)
        if bad:
            yield "data: {this is not json\n\n"
    done = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    yield f"data: {json.dumps(done)}\n\n"
    yield "data: [DONE]\n\n"


def openai_compatible_app(state: ProviderState) -> Patera:
    @path("/v1")
    class ChatCompletions(Controller):
        @post("/chat/completions")
        async def complete(self, req: Request) -> Response[Any]:
            raw = await req.body()
            body = json.loads(raw)
            state.requests.append({"headers": {k.lower(): v for k, v in req.headers.items()}, "body": body})
            step = state.script.pop(0) if state.script else {}
            if "sleep" in step:
                await asyncio.sleep(step["sleep"])
            if "status" in step:
                res = req.response.json({"error": {"message": step.get("message", "try again later"), "type": "test"}})
                for key, value in step.get("headers", {}).items():
                    res.set_header(key, value)
                return res.status(step["status"])
            if step.get("echo_auth"):
                received = req.headers.get("authorization", "")
                return req.response.json({"error": {"message": f"Incorrect API key provided: {received}"}}).status(401)
            if step.get("malformed"):
                return req.response.text('{"choices": [').set_header("content-type", "application/json")
            content, calls = _answer(body)
            if body.get("stream"):
                return req.response.stream(_sse(content or "", bool(step.get("bad_stream"))), "text/event-stream")
            return req.response.json(_completion(body, content, calls))

    return build_app(ChatCompletions)
