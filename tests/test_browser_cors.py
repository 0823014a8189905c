"""A real browser agrees with the CORS layer (SPEC §7).

A page served by one patera app on ``127.0.0.1:PORT_A`` fetches from an API app on
``127.0.0.1:PORT_B``; both run under real hypercorn in this test's event loop, and headless
Chromium loads the page (``tests/browser/cors.html`` + ``cors.js``), which writes what it could
read and what it was refused into the DOM; ``--dump-dom`` hands that back. Loopback only,
bounded in time; skipped without ``/usr/bin/chromium`` or hypercorn.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from patera import Patera, Request, Response
from patera.controller import Controller, cors, delete, get, no_cors, path, post, put
from patera.exceptions import abort

from ._chromium import CHROMIUM, dump_dom
from ._servers import hypercorn_server
from .conftest import build_app

FIXTURES = Path(__file__).parent / "browser"
STARTUP_TIMEOUT = 10.0

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]

#: Handler calls on the API server, by case: what reached the server, whatever the browser showed.
CALLS: Counter[str] = Counter()

CUSTOM_CORS: dict[str, Any] = {
    "allow_methods": ["GET", "PUT"],
    "allow_headers": ["X-Custom", "Content-Type"],
    "expose_headers": ["X-Total"],
}


def api_app(page_origin: str) -> Patera:
    """The API under test: global defaults (``*`` + credentials) plus per-endpoint options."""

    def answer(req: Request, name: str) -> Response:
        CALLS[name] += 1
        res = req.response.json({"cookie": req.cookies.get("sid"), "custom": req.headers.get("x-custom")})
        res.headers["x-total"] = "42"  # readable by the page only where exposed
        return res

    @path("/wild")
    class Wild(Controller):
        @get("/data")
        async def read(self, req: Request) -> Response:
            return answer(req, "wild.get")

        @put("/data")
        async def write(self, req: Request) -> Response:
            return answer(req, "wild.put")

    @path("/listed")
    class Listed(Controller):
        @get("/data")
        @cors(allow_origins=[page_origin], **CUSTOM_CORS)
        async def read(self, req: Request) -> Response:
            return answer(req, "listed.get")

        @put("/data")
        @cors(allow_origins=[page_origin], **CUSTOM_CORS)
        async def write(self, req: Request) -> Response:
            return answer(req, "listed.put")

        @delete("/data")
        @cors(allow_origins=[page_origin], **CUSTOM_CORS)  # DELETE is not an allowed method
        async def remove(self, req: Request) -> Response:
            return answer(req, "listed.delete")

        @get("/fail")
        @cors(allow_origins=[page_origin], **CUSTOM_CORS)
        async def fail(self, req: Request) -> Response:
            CALLS["listed.fail"] += 1
            abort("conflict", 409)

    @path("/closed")
    class Closed(Controller):
        @get("/data")
        @no_cors
        async def read(self, req: Request) -> Response:
            return answer(req, "closed.get")

        @put("/data")
        @no_cors
        async def write(self, req: Request) -> Response:
            return answer(req, "closed.put")

    @path("/refused")
    class Refused(Controller):
        @get("/data")
        @cors(allow_origins=["https://elsewhere.example"], **CUSTOM_CORS)
        async def read(self, req: Request) -> Response:
            return answer(req, "refused.get")

        @put("/data")
        @cors(allow_origins=["https://elsewhere.example"], **CUSTOM_CORS)
        async def write(self, req: Request) -> Response:
            return answer(req, "refused.put")

    return build_app(Wild, Listed, Closed, Refused, DEBUG=False)


@path("/")
class Page(Controller):
    """Serves the probe page; ``/echo`` is the same-origin POST target."""

    @get("/")
    async def index(self, req: Request) -> Response:
        text = (FIXTURES / "cors.html").read_text(encoding="utf-8")
        return req.response.text(text).set_header("content-type", "text/html; charset=utf-8")

    @get("/cors.js")
    async def script(self, req: Request) -> Response:
        text = (FIXTURES / "cors.js").read_text(encoding="utf-8")
        return req.response.text(text).set_header("content-type", "text/javascript; charset=utf-8")

    @post("/echo")
    async def echo(self, req: Request) -> Response:
        CALLS["page.echo"] += 1
        return req.response.json({"origin": req.headers.get("origin")})


def read_results(dom: str) -> dict[str, Any]:
    match = re.search(r'<pre id="results">(.*?)</pre>', dom, re.S)
    assert match is not None, f"no results element in the dumped DOM: {dom[:2000]}"
    text = html.unescape(match.group(1))
    assert text != "pending", "the page did not finish its fetches"
    return json.loads(text)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def browser_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the page once; every test below checks one part of what the browser reported."""
    pytest.importorskip("hypercorn")
    profile = tmp_path_factory.mktemp("chromium-profile")
    CALLS.clear()

    async def run() -> dict[str, Any]:
        # The page's own app allows nobody cross-origin: its same-origin POST must pass anyway.
        page_app = build_app(Page, CORS_ALLOW_ORIGINS=["https://nobody.example"], DEBUG=False)
        async with hypercorn_server(page_app) as port_a:
            page_origin = f"http://127.0.0.1:{port_a}"
            async with hypercorn_server(api_app(page_origin)) as port_b:
                dom = await dump_dom(f"{page_origin}/?api=http://127.0.0.1:{port_b}", profile)
        results = read_results(dom)
        results["__page_origin__"] = page_origin
        results["__calls__"] = dict(CALLS)
        return results

    return asyncio.run(run())


def refused(result: dict[str, Any]) -> bool:
    return result == {"allowed": False, "error": "TypeError"}


def test_wildcard_origins(browser_results: dict[str, Any]) -> None:
    r = browser_results
    assert r["wild_get"] == {"allowed": True, "status": 200, "body": {"cookie": None, "custom": None}, "total": None}
    # "*" never grants credentials: the browser refuses a credentialed read (the GET itself was sent).
    assert refused(r["wild_get_credentials"])
    # A preflighted PUT with an allowed header (Content-Type: application/json) passes...
    assert r["wild_put_json"]["allowed"] and r["wild_put_json"]["status"] == 200
    # ...one with a header the global list does not allow is stopped at the preflight.
    assert refused(r["wild_put_custom_header"])
    calls = r["__calls__"]
    assert calls["wild.get"] == 2 and calls["wild.put"] == 1


def test_listed_origin(browser_results: dict[str, Any]) -> None:
    r = browser_results
    # Exposed header readable; without credentials the cookie stays home.
    assert r["listed_get"] == {"allowed": True, "status": 200, "body": {"cookie": None, "custom": None}, "total": "42"}
    # Echoed origin + Allow-Credentials: the cookie travels and the answer is readable.
    assert r["listed_get_credentials"] == {
        "allowed": True, "status": 200, "body": {"cookie": "s3cret", "custom": None}, "total": "42",
    }
    # Preflighted, credentialed PUT with a custom header.
    assert r["listed_put_custom_header"] == {
        "allowed": True, "status": 200, "body": {"cookie": "s3cret", "custom": "1"}, "total": "42",
    }
    # DELETE is not in allow_methods: the preflight fails and the handler is never reached.
    assert refused(r["listed_delete"])
    calls = r["__calls__"]
    assert calls["listed.get"] == 2 and calls["listed.put"] == 1 and calls.get("listed.delete", 0) == 0


def test_no_cors_endpoint(browser_results: dict[str, Any]) -> None:
    r = browser_results
    # No CORS headers: the simple GET reaches the server but the page cannot read it...
    assert refused(r["closed_get"])
    # ...and a preflighted request is never sent at all.
    assert refused(r["closed_put_custom_header"])
    calls = r["__calls__"]
    assert calls["closed.get"] == 1 and calls.get("closed.put", 0) == 0


def test_refused_origin(browser_results: dict[str, Any]) -> None:
    r = browser_results
    assert refused(r["refused_get"])
    assert refused(r["refused_put_custom_header"])
    calls = r["__calls__"]
    # The server answers 403 itself: neither handler runs.
    assert calls.get("refused.get", 0) == 0 and calls.get("refused.put", 0) == 0


def test_cross_origin_error_answers_are_readable(browser_results: dict[str, Any]) -> None:
    # A 404 under the global policy, and an abort() under the endpoint's credentialed one.
    assert browser_results["not_found"] == {
        "allowed": True, "status": 404, "body": {"status": "error", "message": "Endpoint not found"}, "total": None,
    }
    assert browser_results["listed_abort_credentials"] == {
        "allowed": True, "status": 409, "body": {"status": "error", "message": "conflict"}, "total": None,
    }
    assert browser_results["__calls__"]["listed.fail"] == 1


def test_same_origin_post_never_refused(browser_results: dict[str, Any]) -> None:
    # Chromium sends Origin on a same-origin POST; an app that lists only other origins serves it.
    r = browser_results
    assert r["same_origin_post"] == {
        "allowed": True, "status": 200, "body": {"origin": r["__page_origin__"]}, "total": None,
    }
    assert r["__calls__"]["page.echo"] == 1
