"""CORS end to end in-process (SPEC §7, §3.3): effective options per endpoint, outcomes, preflights.

The pure policy is covered by ``test_cors_policy.py``; here every case goes through the
ASGI stack (router → CORS layer → middleware → endpoint → exception handlers).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from loguru import logger
from pydantic import BaseModel

from patera import MiddlewareBase, Request, Response
from patera._cors import CREDENTIALS_WARNING
from patera.controller import Controller, cors, delete, get, no_cors, path, post, put, socket
from patera.exceptions import ExceptionHandler, handles
from patera.testing import PateraTestClient

from .conftest import build_app

ORIGIN = "https://a.example"
ACAO = "access-control-allow-origin"
ACAC = "access-control-allow-credentials"
ACEH = "access-control-expose-headers"
ACAM = "access-control-allow-methods"
ACAH = "access-control-allow-headers"
ACMA = "access-control-max-age"
CORS_HEADERS = (ACAO, ACAC, ACEH, ACAM, ACAH, ACMA)
REFUSED = {"status": "error", "message": "CORS origin not allowed"}
PREFLIGHT_REFUSED = {"status": "error", "message": "Preflight method not allowed"}

#: Handler and middleware invocations, by name: proves what was (not) reached.
CALLS: Counter[str] = Counter()


class Teapot(Exception):
    pass


class Handlers(ExceptionHandler):
    @handles(Teapot)
    async def teapot(self, req: Request, exc: Teapot) -> Response:
        return req.response.json({"handled": str(exc)}).status(418)


class Counting(MiddlewareBase):
    """Counts every request it sees; ``x-block`` short-circuits, ``x-explode`` raises."""

    async def middleware(self, req: Request) -> Response:
        CALLS["middleware"] += 1
        if req.headers.get("x-block"):
            return req.response.json({"blocked": True}).status(429)
        if req.headers.get("x-explode"):
            raise Teapot("from middleware")
        return await self.next(req)


class Count(BaseModel):
    n: int


@path("/api")
class Api(Controller):
    @get("/open")
    async def open(self, req: Request) -> Response:
        CALLS["open"] += 1
        return req.response.json({"ok": True})

    @put("/open")
    async def replace(self, req: Request) -> Response:
        CALLS["replace"] += 1
        return req.response.json({"put": True})

    @get("/closed")
    @no_cors
    async def closed(self, req: Request) -> Response:
        CALLS["closed"] += 1
        return req.response.json({"closed": True})

    @get("/special")
    @cors(allow_origins=["https://special.example/"], expose_headers=["X-Total"], max_age=600)
    async def special(self, req: Request) -> Response:
        CALLS["special"] += 1
        res = req.response.json({"special": True})
        res.headers["x-total"] = "3"
        return res

    @get("/vary")
    async def vary(self, req: Request) -> Response:
        res = req.response.json({"vary": True})
        res.headers["vary"] = "Accept-Encoding"
        if req.headers.get("x-more"):
            res.headers.add("Vary", "Cookie")
        if req.headers.get("x-star"):
            res.headers["vary"] = "*"
        return res

    @get("/teapot")
    async def teapot(self, req: Request) -> Response:
        CALLS["teapot"] += 1
        raise Teapot("from handler")

    @get("/crash")
    async def crash(self, req: Request) -> Response:
        raise RuntimeError("handler bug")

    @get("/dir/")
    async def branch(self, req: Request) -> Response:
        return req.response.text("dir")

    @get("/own-headers")
    async def own_headers(self, req: Request) -> Response:
        res = req.response.json({"own": True})
        res.headers["Access-Control-Allow-Origin"] = "https://evil.example"
        res.headers["Access-Control-Allow-Credentials"] = "true"
        res.headers["Access-Control-Expose-Headers"] = "X-Secret"
        return res

    @get("/invalid")
    async def invalid(self, req: Request) -> Response[Count]:
        return req.response.json({"n": "not a number"})  # fails Response[Count] at send time


@path("/multi")
class Multi(Controller):
    """One path, three methods, three CORS configurations."""

    @get("/thing")
    @cors(allow_origins=["https://get.example"], allow_methods=["GET"], allow_credentials=False)
    async def read(self, req: Request) -> Response:
        CALLS["read"] += 1
        return req.response.json({"read": True})

    @post("/thing")
    @cors(allow_origins=["https://post.example"], allow_methods=["POST"], allow_headers=["X-Custom"], max_age=60)
    async def write(self, req: Request) -> Response:
        CALLS["write"] += 1
        return req.response.json({"write": True})

    @delete("/thing")
    @no_cors
    async def remove(self, req: Request) -> Response:
        CALLS["remove"] += 1
        return req.response.json({"remove": True})


@path("/ws")
class Sockets(Controller):
    @socket("/echo")
    async def echo(self, req: Request) -> None:
        await req.accept()
        await req.send_text("hi")
        await req.close()


def make(**config: Any) -> Any:
    config.setdefault("DEBUG", False)
    return build_app(Api, Multi, Sockets, handlers=(Handlers,), MIDDLEWARE=[f"{__name__}:Counting"], **config)


def preflight_headers(method: str, origin: str = ORIGIN, headers: str | None = None) -> dict[str, str]:
    out = {"origin": origin, "access-control-request-method": method}
    if headers is not None:
        out["access-control-request-headers"] = headers
    return out


def no_cors_headers(headers: Any) -> bool:
    return not any(name in headers for name in CORS_HEADERS)


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()


# ---------------------------------------------------------------------- untouched requests


async def test_request_without_origin_is_untouched() -> None:
    async with PateraTestClient(make(CORS_ALLOW_ORIGINS=["https://b.example"])) as client:
        r = await client.get("/api/open")
    assert r.status_code == 200
    assert no_cors_headers(r.headers)
    assert "vary" not in r.headers


@pytest.mark.parametrize(
    ("base_url", "origin"),
    [
        ("http://testserver", "http://testserver"),
        ("http://testserver", "http://testserver:80"),
        ("http://testserver", "HTTP://TestServer"),
        ("http://testserver:80", "http://testserver"),
        ("http://testserver:8080", "http://testserver:8080"),
        ("https://testserver", "https://testserver:443"),
    ],
)
async def test_same_origin_is_untouched_and_never_refused(base_url: str, origin: str) -> None:
    # The allow-list names only someone else: a same-origin request still passes, without headers.
    app = make(CORS_ALLOW_ORIGINS=["https://b.example"])
    async with PateraTestClient(app, base_url=base_url) as client:
        r = await client.post("/api/open", headers={"origin": origin})  # 405, but not 403
        assert r.status_code == 405
        r = await client.get("/api/open", headers={"origin": origin})
        assert r.status_code == 200
        assert no_cors_headers(r.headers) and "vary" not in r.headers
        # Same-origin OPTIONS with Access-Control-Request-Method is no preflight: the automatic OPTIONS answer.
        r = await client.options("/api/open", headers=preflight_headers("PUT", origin))
        assert r.status_code == 200
        assert r.headers["allow"] == "GET, HEAD, OPTIONS, PUT"
        assert no_cors_headers(r.headers)
    assert CALLS["open"] == 1


@pytest.mark.parametrize(
    ("base_url", "origin"),
    [
        ("http://testserver", "https://testserver"),  # scheme differs
        ("http://testserver", "http://testserver:8080"),  # port differs
        ("http://testserver:8080", "http://testserver"),
        ("http://testserver", "http://testserver.evil"),
    ],
)
async def test_near_same_origin_is_cross_origin(base_url: str, origin: str) -> None:
    async with PateraTestClient(make(CORS_ALLOW_ORIGINS=["https://b.example"]), base_url=base_url) as client:
        r = await client.get("/api/open", headers={"origin": origin})
    assert r.status_code == 403
    assert r.json() == REFUSED
    assert CALLS["open"] == 0


async def test_same_origin_needs_one_matching_host() -> None:
    app = make(CORS_ALLOW_ORIGINS=["https://b.example"])
    async with PateraTestClient(app) as client:
        r = await client.get("/api/open", headers={"origin": "http://api.example:8000", "host": "api.example:8000"})
        assert r.status_code == 200 and no_cors_headers(r.headers)
        # The same Origin against another Host is cross-origin (the same-origin check is cached per triple).
        r = await client.get("/api/open", headers={"origin": "http://api.example:8000", "host": "api.example"})
        assert r.status_code == 403
        # Two Host lines never name the request's origin: refused outright (duplicate Host → 400).
        two_hosts = [("origin", "http://testserver"), ("host", "testserver"), ("host", "testserver")]
        r = await client.get("/api/open", headers=two_hosts)
        assert r.status_code == 400
    assert CALLS["open"] == 1


# ---------------------------------------------------------------------- effective options per endpoint


async def test_no_cors_endpoint_gets_no_headers_and_no_preflight_grant() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.get("/api/closed", headers={"origin": ORIGIN})
        assert r.status_code == 200 and r.json() == {"closed": True}
        assert no_cors_headers(r.headers)
        # Not refused either: the endpoint opted out of CORS, not into a deny-list.
        r = await client.get("/api/closed", headers={"origin": "null"})
        assert r.status_code == 200 and no_cors_headers(r.headers)
        r = await client.options("/api/closed", headers=preflight_headers("GET"))
        assert ACAO not in r.headers and ACAM not in r.headers
        assert r.status_code != 200 or r.content == b""
    assert CALLS["closed"] == 2


async def test_cors_overlay_enabled_even_when_globally_disabled() -> None:
    async with PateraTestClient(make(CORS_ENABLED=False)) as client:
        r = await client.get("/api/open", headers={"origin": ORIGIN})
        assert r.status_code == 200 and no_cors_headers(r.headers)  # globals off: untouched
        r = await client.get("/api/special", headers={"origin": "https://special.example"})
        assert r.status_code == 200
        assert r.headers[ACAO] == "https://special.example"
        assert r.headers[ACAC] == "true"
        assert r.headers[ACEH] == "X-Total"
        assert r.headers["vary"] == "Origin"
        r = await client.get("/api/special", headers={"origin": ORIGIN})
        assert r.status_code == 403 and r.json() == REFUSED
        # The preflight for the overlaid endpoint is granted too.
        r = await client.options("/api/special", headers=preflight_headers("GET", "https://special.example"))
        assert r.status_code == 200, r.text
        assert r.headers[ACAO] == "https://special.example"
        assert r.headers[ACMA] == "600"
        # ...while one for a globals-only endpoint is not: the automatic OPTIONS answer, through
        # the middleware (an app with CORS off may answer preflights in its own middleware).
        before = CALLS["middleware"]
        r = await client.options("/api/open", headers=preflight_headers("PUT"))
        assert r.status_code == 200 and r.headers["allow"] == "GET, HEAD, OPTIONS, PUT"
        assert no_cors_headers(r.headers)
        assert CALLS["middleware"] == before + 1
        # 404s follow the (disabled) global policy.
        r = await client.get("/nope", headers={"origin": ORIGIN})
        assert r.status_code == 404 and no_cors_headers(r.headers)
    assert CALLS["special"] == 1


async def test_overlay_replaces_only_given_options() -> None:
    app = make(CORS_ALLOW_ORIGINS=[ORIGIN], CORS_EXPOSE_HEADERS=["X-Global"], CORS_ALLOW_CREDENTIALS=False)
    async with PateraTestClient(app) as client:
        r = await client.get("/api/open", headers={"origin": ORIGIN})
        assert r.headers[ACAO] == ORIGIN and r.headers[ACEH] == "X-Global" and ACAC not in r.headers
        # @cors(allow_origins=..., expose_headers=...) keeps the global credentials=False.
        r = await client.get("/api/special", headers={"origin": ORIGIN})
        assert r.status_code == 403
        r = await client.get("/api/special", headers={"origin": "https://special.example"})
        assert r.headers[ACAO] == "https://special.example" and r.headers[ACEH] == "X-Total"
        assert ACAC not in r.headers


# ---------------------------------------------------------------------- the §7 outcome matrix


@pytest.mark.parametrize(
    ("origins", "credentials", "acao", "acac"),
    [
        (["*"], False, "*", None),
        (["*"], True, "*", None),
        ([ORIGIN], False, ORIGIN, None),
        ([ORIGIN], True, ORIGIN, "true"),
        (["https://b.example"], False, None, None),
        (["https://b.example"], True, None, None),
    ],
    ids=["wildcard", "wildcard+credentials", "listed", "listed+credentials", "unlisted", "unlisted+credentials"],
)
async def test_outcome_matrix(origins: list[str], credentials: bool, acao: str | None, acac: str | None) -> None:
    app = make(CORS_ALLOW_ORIGINS=origins, CORS_ALLOW_CREDENTIALS=credentials)
    async with PateraTestClient(app) as client:
        r = await client.get("/api/open", headers={"origin": ORIGIN})
    if acao is None:
        assert r.status_code == 403
        assert r.json() == REFUSED
        assert r.headers["content-type"] == "application/json"
        assert ACAO not in r.headers and ACAC not in r.headers
        assert CALLS["open"] == 0 and CALLS["middleware"] == 0
        return
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert r.headers[ACAO] == acao
    assert r.headers.get(ACAC) == acac
    assert r.headers["vary"] == "Origin"
    assert ACEH not in r.headers
    assert CALLS["open"] == 1


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://trusted.com", True),
        ("https://trusted.com.evil.io", False),
        ("https://evil.io/https://trusted.com", False),
        ("https://trusted.com:443", False),  # a different serialisation is a different origin string
        ("http://trusted.com", False),
        ("https://TRUSTED.com", False),
        ("https://trusted.co", False),
        ("https://trusted.com, https://evil.io", False),
        ("null", False),
    ],
)
async def test_listed_origin_is_matched_exactly(origin: str, allowed: bool) -> None:
    app = make(CORS_ALLOW_ORIGINS=["https://trusted.com/"])  # trailing slash dropped by normalisation
    async with PateraTestClient(app) as client:
        r = await client.get("/api/open", headers={"origin": origin})
    if allowed:
        assert r.status_code == 200
        assert r.headers[ACAO] == origin and r.headers[ACAC] == "true"
    else:
        assert r.status_code == 403 and r.json() == REFUSED
        assert ACAO not in r.headers
        assert CALLS["open"] == 0


@pytest.mark.parametrize(
    ("origins", "credentials", "status"),
    [
        (["*"], True, 403),  # the wildcard never covers the opaque origin
        (["*"], False, 403),
        (["null"], True, 200),  # explicit and credentialed: honoured
        (["null"], False, 403),
        ([ORIGIN], True, 403),
    ],
)
async def test_null_origin(origins: list[str], credentials: bool, status: int) -> None:
    app = make(CORS_ALLOW_ORIGINS=origins, CORS_ALLOW_CREDENTIALS=credentials)
    async with PateraTestClient(app) as client:
        r = await client.get("/api/open", headers={"origin": "null"})
    assert r.status_code == status
    if status == 200:
        assert r.headers[ACAO] == "null" and r.headers[ACAC] == "true"
    else:
        assert r.json() == REFUSED and CALLS["open"] == 0


async def test_refused_origin_never_reaches_middleware_or_handler() -> None:
    async with PateraTestClient(make(CORS_ALLOW_ORIGINS=["https://b.example"])) as client:
        for method in ("GET", "PUT", "DELETE", "PATCH"):
            r = await client.request(method, "/api/open", headers={"origin": ORIGIN})
            assert r.status_code == 403, method
            assert r.json() == REFUSED
            assert r.headers["vary"] == "Origin"
    assert Counter() == CALLS


# ---------------------------------------------------------------------- preflights


async def test_preflight_granted_with_all_headers() -> None:
    app = make(
        CORS_ALLOW_ORIGINS=[ORIGIN],
        CORS_ALLOW_METHODS=["get", " PUT "],
        CORS_ALLOW_HEADERS=["X-Custom", "Content-Type"],
        CORS_MAX_AGE=3600,
    )
    async with PateraTestClient(app) as client:
        r = await client.options("/api/open", headers=preflight_headers("PUT", headers="x-custom, content-type"))
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers[ACAO] == ORIGIN
    assert r.headers[ACAC] == "true"
    assert r.headers[ACAM] == "GET, PUT"
    assert r.headers[ACAH] == "X-Custom, Content-Type"
    assert r.headers[ACMA] == "3600"
    assert r.headers["vary"] == "Origin"
    assert ACEH not in r.headers
    assert Counter() == CALLS  # neither middleware nor handler


async def test_preflight_echoes_requested_headers_when_list_empty() -> None:
    app = make(CORS_ALLOW_HEADERS=[], CORS_ALLOW_CREDENTIALS=False)
    async with PateraTestClient(app) as client:
        r = await client.options("/api/open", headers=preflight_headers("PUT", headers="X-One,  x-two"))
        assert r.status_code == 200
        assert r.headers[ACAO] == "*"
        assert r.headers[ACAH] == "X-One, x-two"
        assert ACAC not in r.headers and ACMA not in r.headers
        assert r.headers[ACAM] == "GET, POST, PUT, PATCH, DELETE, OPTIONS"
        # A header list that is not a clean token list is not echoed (the browser then fails it).
        r = await client.options("/api/open", headers=preflight_headers("PUT", headers="x-a\tx-b, (x)"))
        assert r.status_code == 200 and ACAH not in r.headers
    assert Counter() == CALLS


async def test_preflight_method_not_allowed() -> None:
    app = make(CORS_ALLOW_METHODS=["GET"])
    async with PateraTestClient(app) as client:
        r = await client.options("/api/open", headers=preflight_headers("PUT"))
    assert r.status_code == 405
    assert r.json() == PREFLIGHT_REFUSED
    assert ACAO not in r.headers and ACAM not in r.headers
    assert Counter() == CALLS


async def test_preflight_refused_origin() -> None:
    async with PateraTestClient(make(CORS_ALLOW_ORIGINS=["https://b.example"])) as client:
        r = await client.options("/api/open", headers=preflight_headers("GET"))
    assert r.status_code == 403 and r.json() == REFUSED
    assert ACAO not in r.headers
    assert Counter() == CALLS


@pytest.mark.parametrize(
    ("origin", "method", "status", "expected"),
    [
        ("https://get.example", "GET", 200, {ACAM: "GET", ACAH: "Authorization, Content-Type"}),
        ("https://get.example", "POST", 403, None),  # the POST endpoint's list decides
        ("https://post.example", "POST", 200, {ACAM: "POST", ACAH: "X-Custom", ACMA: "60", ACAC: "true"}),
        ("https://post.example", "GET", 403, None),
        # @no_cors: not the CORS layer's business, so the automatic OPTIONS answer (no grant).
        ("https://get.example", "DELETE", None, None),
        ("https://post.example", "DELETE", None, None),
    ],
)
async def test_preflight_uses_endpoint_matching_path_and_method(
    origin: str, method: str, status: int | None, expected: dict[str, str] | None
) -> None:
    async with PateraTestClient(make()) as client:
        r = await client.options("/multi/thing", headers=preflight_headers(method, origin, "x-custom"))
    if status is None:
        assert r.status_code == 200 and r.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, POST"
        assert no_cors_headers(r.headers)
        assert Counter({"middleware": 1}) == CALLS
        return
    assert r.status_code == status
    if expected is not None:
        assert r.headers[ACAO] == origin
        for name, value in expected.items():
            assert r.headers[name] == value
        if ACAC not in expected:
            assert ACAC not in r.headers
    else:
        assert r.json() == REFUSED
    assert Counter() == CALLS


async def test_preflight_for_unrouted_method_uses_an_endpoint_on_the_path() -> None:
    # /api/special only has GET (@cors for special.example): a POST preflight still gets its options.
    async with PateraTestClient(make()) as client:
        r = await client.options("/api/special", headers=preflight_headers("POST", "https://special.example"))
        assert r.status_code == 200 and r.headers[ACAO] == "https://special.example"
        r = await client.options("/api/special", headers=preflight_headers("POST"))
        assert r.status_code == 403
    assert Counter() == CALLS


async def test_preflight_for_unknown_path_uses_global_policy() -> None:
    async with PateraTestClient(make(CORS_ALLOW_ORIGINS=[ORIGIN])) as client:
        r = await client.options("/nope", headers=preflight_headers("GET"))
        assert r.status_code == 200 and r.headers[ACAO] == ORIGIN
        r = await client.options("/nope", headers=preflight_headers("GET", "https://b.example"))
        assert r.status_code == 403
    async with PateraTestClient(make(CORS_ENABLED=False)) as client:
        r = await client.options("/nope", headers=preflight_headers("GET"))
        assert r.status_code == 404 and no_cors_headers(r.headers)
    assert Counter({"middleware": 1}) == CALLS


async def test_actual_requests_follow_their_own_endpoint_options() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.get("/multi/thing", headers={"origin": "https://get.example"})
        assert r.status_code == 200 and r.headers[ACAO] == "https://get.example" and ACAC not in r.headers
        r = await client.post("/multi/thing", headers={"origin": "https://get.example"})
        assert r.status_code == 403
        r = await client.post("/multi/thing", headers={"origin": "https://post.example"})
        assert r.status_code == 200 and r.headers[ACAC] == "true"
        r = await client.delete("/multi/thing", headers={"origin": "https://evil.example"})
        assert r.status_code == 200 and no_cors_headers(r.headers)
    assert Counter({"read": 1, "write": 1, "remove": 1, "middleware": 3}) == CALLS


async def test_plain_options_with_origin_is_not_a_preflight() -> None:
    # No Access-Control-Request-Method: the automatic OPTIONS answer, with CORS headers as an actual response.
    async with PateraTestClient(make()) as client:
        r = await client.options("/api/open", headers={"origin": ORIGIN})
    assert r.status_code == 200
    assert r.headers["allow"] == "GET, HEAD, OPTIONS, PUT"
    assert r.headers[ACAO] == "*" and ACAM not in r.headers
    assert Counter({"middleware": 1}) == CALLS


# ---------------------------------------------------------------------- framework answers, Vary, errors


@pytest.mark.parametrize(
    ("config", "acao", "acac"),
    [({}, "*", None), ({"CORS_ALLOW_ORIGINS": [ORIGIN]}, ORIGIN, "true")],
    ids=["wildcard", "listed"],
)
async def test_404_405_308_carry_global_cors_headers(config: dict[str, Any], acao: str, acac: str | None) -> None:
    async with PateraTestClient(make(STRICT_SLASHES=True, **config)) as client:
        answers = [
            await client.get("/nope", headers={"origin": ORIGIN}),
            await client.post("/api/open", headers={"origin": ORIGIN}),
            await client.get("/api/dir", headers={"origin": ORIGIN}),
            # The @no_cors endpoint's path under a wrong method: the global policy answers.
            await client.post("/api/closed", headers={"origin": ORIGIN}),
        ]
    assert [r.status_code for r in answers] == [404, 405, 308, 405]
    assert answers[0].json() == {"status": "error", "message": "Endpoint not found"}
    assert answers[1].headers["allow"] == "GET, HEAD, OPTIONS, PUT"
    assert answers[2].headers["location"] == "/api/dir/"
    for r in answers:
        assert r.headers[ACAO] == acao
        assert r.headers.get(ACAC) == acac
        assert r.headers["vary"] == "Origin"
    assert CALLS["middleware"] == 4  # the middleware sees unmatched requests too


async def test_unmatched_request_from_refused_origin_is_403() -> None:
    async with PateraTestClient(make(CORS_ALLOW_ORIGINS=["https://b.example"])) as client:
        r = await client.get("/nope", headers={"origin": ORIGIN})
    assert r.status_code == 403 and r.json() == REFUSED


async def test_vary_merged_with_existing() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.get("/api/vary", headers={"origin": ORIGIN})
        assert r.headers.get_list("vary") == ["Accept-Encoding, Origin"]
        r = await client.get("/api/vary", headers={"origin": ORIGIN, "x-more": "1"})
        assert r.headers.get_list("vary") == ["Accept-Encoding, Cookie, Origin"]
        r = await client.get("/api/vary", headers={"origin": ORIGIN, "x-star": "1"})
        assert r.headers.get_list("vary") == ["*"]  # already covers Origin
        r = await client.get("/api/vary")  # not a CORS request: untouched
        assert r.headers.get_list("vary") == ["Accept-Encoding"]


async def test_exception_handler_and_middleware_answers_carry_cors_headers() -> None:
    app = make(CORS_ALLOW_ORIGINS=[ORIGIN], CORS_EXPOSE_HEADERS=["X-Total"])
    async with PateraTestClient(app) as client:
        answers = {
            "handler raise": await client.get("/api/teapot", headers={"origin": ORIGIN}),
            "middleware short-circuit": await client.get("/api/open", headers={"origin": ORIGIN, "x-block": "1"}),
            "middleware raise": await client.get("/api/open", headers={"origin": ORIGIN, "x-explode": "1"}),
            "unhandled 500": await client.get("/api/crash", headers={"origin": ORIGIN}),
        }
    expected = {"handler raise": 418, "middleware short-circuit": 429, "middleware raise": 418, "unhandled 500": 500}
    assert {k: r.status_code for k, r in answers.items()} == expected
    assert answers["unhandled 500"].json() == {"status": "error", "message": "Internal server error"}
    for name, r in answers.items():
        assert r.headers[ACAO] == ORIGIN, name
        assert r.headers[ACAC] == "true", name
        assert r.headers[ACEH] == "X-Total", name
        assert r.headers["vary"] == "Origin", name
    assert CALLS["open"] == 0 and CALLS["teapot"] == 1


async def test_response_validation_500_keeps_cors_headers() -> None:
    async with PateraTestClient(make(CORS_ALLOW_ORIGINS=[ORIGIN])) as client:
        r = await client.get("/api/invalid", headers={"origin": ORIGIN})
    assert r.status_code == 500
    assert r.json() == {"status": "error", "message": "Internal server error"}
    assert r.headers[ACAO] == ORIGIN and r.headers[ACAC] == "true" and r.headers["vary"] == "Origin"


@pytest.mark.parametrize(("config", "acao"), [({}, "*"), ({"CORS_ALLOW_ORIGINS": [ORIGIN]}, ORIGIN)])
async def test_policy_replaces_handler_set_cors_headers(config: dict[str, Any], acao: str) -> None:
    # A second Allow-Origin would make the browser refuse; an unlisted one must never go out.
    async with PateraTestClient(make(CORS_ALLOW_CREDENTIALS=False, **config)) as client:
        r = await client.get("/api/own-headers", headers={"origin": ORIGIN})
        assert r.status_code == 200
        assert r.headers.get_list(ACAO) == [acao]
        assert ACAC not in r.headers and ACEH not in r.headers
        # Without Origin (not a CORS request) the handler's headers are left alone.
        r = await client.get("/api/own-headers")
        assert r.headers[ACAO] == "https://evil.example"


async def test_head_request_carries_cors_headers() -> None:
    async with PateraTestClient(make(CORS_ALLOW_ORIGINS=[ORIGIN])) as client:
        r = await client.head("/api/open", headers={"origin": ORIGIN})
    assert r.status_code == 200 and r.content == b""
    assert r.headers[ACAO] == ORIGIN


# ---------------------------------------------------------------------- hostile input


async def test_duplicate_origin_headers_are_a_bad_request() -> None:
    headers = [("origin", ORIGIN), ("origin", "https://evil.example")]
    async with PateraTestClient(make(CORS_ALLOW_ORIGINS=[ORIGIN])) as client:
        answers = [
            await client.get("/api/open", headers=headers),
            await client.get("/api/open", headers=[("origin", ORIGIN), ("origin", ORIGIN)]),
            await client.get("/api/closed", headers=headers),  # whatever the endpoint's options
            await client.options("/api/open", headers=[*headers, ("access-control-request-method", "GET")]),
            await client.get("/nope", headers=headers),
            # Even when one of them is our own origin: which one is meant is unknowable.
            await client.get("/api/open", headers=[("origin", "http://testserver"), ("origin", ORIGIN)]),
        ]
    for r in answers:
        assert r.status_code == 400
        assert r.json() == {"status": "error", "message": "Duplicate Origin header"}
        assert no_cors_headers(r.headers)
    assert Counter() == CALLS


async def test_duplicate_origin_refused_even_with_cors_disabled() -> None:
    async with PateraTestClient(make(CORS_ENABLED=False)) as client:
        r = await client.get("/api/open", headers=[("origin", ORIGIN), ("origin", ORIGIN)])
    assert r.status_code == 400
    assert Counter() == CALLS


@pytest.mark.parametrize(
    "origin",
    ["https://a.example/", "https://a.example/path", "https://user@a.example", "https://a.example:99999", " https://a.example"],
)
async def test_malformed_origin_never_echoed(origin: str) -> None:
    async with PateraTestClient(make(CORS_ALLOW_ORIGINS=[ORIGIN])) as client:
        r = await client.get("/api/open", headers={"origin": origin})
    assert r.status_code == 403 and ACAO not in r.headers


# ---------------------------------------------------------------------- startup warning


def _warnings_at_build(**config: Any) -> list[str]:
    messages: list[str] = []
    sink = logger.add(lambda m: messages.append(m.record["message"]), level="WARNING", format="{message}")
    try:
        make(**config).build()
    finally:
        logger.remove(sink)
    return messages


@pytest.mark.parametrize(
    ("config", "warned"),
    [
        ({}, False),  # untouched defaults (["*"] + credentials) start silently
        ({"CORS_ALLOW_CREDENTIALS": True}, True),  # the app's own config asks for both
        ({"CORS_ALLOW_ORIGINS": ["*"]}, True),
        ({"CORS_ALLOW_ORIGINS": ["*"], "CORS_ALLOW_CREDENTIALS": True}, True),
        ({"CORS_ALLOW_ORIGINS": ["*"], "CORS_ALLOW_CREDENTIALS": False}, False),
    ],
    ids=["defaults", "credentials-set", "origins-set", "both-set", "credentials-off"],
)
def test_credentials_warning_only_when_the_app_sets_the_keys(config: dict[str, Any], warned: bool) -> None:
    assert (CREDENTIALS_WARNING in _warnings_at_build(**config)) is warned


def test_credentials_warning_for_keys_set_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", '["*"]')
    assert CREDENTIALS_WARNING in _warnings_at_build()


def test_startup_warning_for_wildcard_with_credentials() -> None:
    assert CREDENTIALS_WARNING not in _warnings_at_build(CORS_ALLOW_CREDENTIALS=False)
    assert CREDENTIALS_WARNING not in _warnings_at_build(CORS_ALLOW_ORIGINS=[ORIGIN])
    assert _warnings_at_build(CORS_ENABLED=False, CORS_ALLOW_ORIGINS=[ORIGIN]) == []


def test_startup_warning_for_endpoint_overlay() -> None:
    @path("/w")
    class Wild(Controller):
        @get("/")
        @cors(allow_origins=["*"], allow_credentials=True)
        async def wild(self, req: Request) -> Response:
            return req.response.text("")

    messages: list[str] = []
    sink = logger.add(lambda m: messages.append(m.record["message"]), level="WARNING", format="{message}")
    try:
        build_app(Wild, CORS_ALLOW_ORIGINS=[ORIGIN]).build()
    finally:
        logger.remove(sink)
    assert any("Wild.wild" in m and CREDENTIALS_WARNING in m for m in messages), messages


# ---------------------------------------------------------------------- websockets


async def test_websocket_handshake_carries_no_cors_headers() -> None:
    # Even from an origin the HTTP policy would refuse: a socket's Origin check is its handler's business.
    async with (
        PateraTestClient(make(CORS_ALLOW_ORIGINS=["https://b.example"])) as client,
        client.websocket_connect("/ws/echo", headers={"origin": ORIGIN}) as ws,
    ):
            assert await ws.receive_text() == "hi"
            names = {name.decode().lower() for name, _ in ws.accept_headers}
    assert not names & {*CORS_HEADERS, "vary"}
    assert CALLS["middleware"] == 0
