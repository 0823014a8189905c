"""Static files (SPEC §10): resolution safety, headers, conditional and range requests."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from patera import BaseConfig, Patera, app, app_path
from patera._cookies import http_date
from patera.controller import Controller, get, path
from patera.exceptions import StaticAssetNotFound
from patera.request import Request
from patera.response import Response
from patera.static import UNSATISFIABLE, etag_for, parse_range, split_static_path, static_content_type
from patera.testing import PateraTestClient

from ._servers import hypercorn_server

DATA = Path(__file__).parent / "data" / "static"
HELLO = (DATA / "hello.txt").read_bytes()
NOT_FOUND = {"status": "error", "message": "Static asset not found"}


class Cfg(BaseConfig):
    APP_NAME: str = "static-tests"
    VERSION: str = "1"
    BASE_PATH: str = "."
    ACCESS_LOG: bool = False
    DEBUG: bool = False
    STATIC_DIR: str = "/data/static"
    CORS_ALLOW_CREDENTIALS: bool = False


@path("/api")
class Api(Controller):
    @get("/links")
    async def links(self, req: Request) -> Response[Any]:
        return req.response.json({"a": self.app.url_for("static", filename="img/a.png")})


@app(__name__, configs=Cfg)
class DataApp(Patera):
    pass


class TmpCfg(Cfg):
    STATIC_DIR: str = "/static"


@app("__main__", configs=TmpCfg)
class TmpApp(Patera):
    """Rooted at the working directory at construction time."""


def make_tmp_app(root: Path) -> Patera:
    """An app whose root is ``root`` (the folder served is ``root/static``)."""
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return TmpApp()
    finally:
        os.chdir(cwd)


async def raw_request(
    asgi: Any, path_: str, headers: list[tuple[bytes, bytes]] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes, int]:
    """Drive the app with an exact ASGI path (httpx would normalise ``..`` away).

    Returns status, headers, body and the number of body messages.
    """
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path_, "raw_path": path_.encode("utf-8", "surrogatepass"),
        "query_string": b"", "root_path": "", "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []
    first = True
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(asgi(scope, receive, send), 10)
    start = sent[0]
    bodies = [m for m in sent[1:] if m["type"] == "http.response.body"]
    hdrs = {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}
    return start["status"], hdrs, b"".join(m.get("body", b"") for m in bodies), len(bodies)


# NOTE: constructing an app costs tens of milliseconds (logger sinks), so read-only tests share one.
_SHARED = DataApp()
_SHARED.register_controller(Api)


@pytest.fixture
async def client() -> Any:
    async with PateraTestClient(_SHARED) as c:
        yield c


@pytest.fixture(scope="module")
def hostile_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``static/`` with a good file, symlinks out of it, and a sibling sharing its name prefix."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    static = tmp_path / "static"
    shutil.copytree(DATA, static)
    (tmp_path / "secret.txt").write_text("top secret")
    evil = tmp_path / "static_evil"
    evil.mkdir()
    (evil / "secret.txt").write_text("evil secret")
    (static / "link_out.txt").symlink_to(tmp_path / "secret.txt")
    (static / "evil_dir").symlink_to(evil, target_is_directory=True)
    (static / "link_in.txt").symlink_to(static / "hello.txt")
    (static / "latest.css").symlink_to(static / "hello.txt")
    (static / "CON").write_text("device name")  # exists on POSIX, still refused
    (static / "con.txt").write_text("device name")
    (static / "%2e%2e").mkdir()
    (static / "%2e%2e" / "secret.txt").write_text("literal name, served")
    return tmp_path


@pytest.fixture(scope="module")
def hostile_app(hostile_root: Path) -> Patera:
    return make_tmp_app(hostile_root)


# ---------------------------------------------------------------------- basic serving


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("hello.txt", "text/plain; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("site.css", "text/css; charset=utf-8"),
        ("img/a.png", "image/png"),
        ("blob.zzqx", "application/octet-stream"),
        ("sub/deep.txt", "text/plain; charset=utf-8"),
    ],
    ids=["txt", "json", "css", "png", "unknown", "nested"],
)
async def test_serves_file_with_headers(client: PateraTestClient, name: str, content_type: str) -> None:
    r = await client.get(f"/static/{name}")
    info = os.stat(DATA / name)
    assert r.status_code == 200
    assert r.content == (DATA / name).read_bytes()
    assert r.headers["content-type"] == content_type
    assert r.headers["content-length"] == str(info.st_size)
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["last-modified"] == http_date(int(info.st_mtime))
    assert r.headers["etag"] == f'"{info.st_mtime_ns:x}-{info.st_size:x}"'


async def test_javascript_gets_charset(client: PateraTestClient) -> None:
    r = await client.get("/static/app.js")
    assert r.status_code == 200
    kind, _, params = r.headers["content-type"].partition(";")
    assert kind in ("text/javascript", "application/javascript")
    assert params.strip() == "charset=utf-8"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.tar.gz", "application/gzip"),
        ("a.svg", "image/svg+xml"),
        ("a.html", "text/html; charset=utf-8"),
        ("noext", "application/octet-stream"),
    ],
    ids=["gzip-archive", "svg", "html", "no-extension"],
)
def test_content_type_table(name: str, expected: str) -> None:
    assert static_content_type(name) == expected


async def test_head_keeps_length_and_drops_body(client: PateraTestClient) -> None:
    r = await client.head("/static/hello.txt")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == str(len(HELLO))
    assert r.headers["content-type"] == "text/plain; charset=utf-8"


async def test_head_of_range_keeps_partial_length(client: PateraTestClient) -> None:
    r = await client.head("/static/hello.txt", headers={"Range": "bytes=0-4"})
    assert r.status_code == 206
    assert r.content == b""
    assert r.headers["content-length"] == "5"


@pytest.mark.parametrize(
    "url", ["/static/missing.txt", "/static/img", "/static/img/", "/static/sub/nope/deeper.txt"],
    ids=["missing", "directory", "directory-slash", "missing-nested"],
)
async def test_not_found_is_json_404(client: PateraTestClient, url: str) -> None:
    r = await client.get(url)
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


async def test_post_is_405(client: PateraTestClient) -> None:
    r = await client.post("/static/hello.txt")
    assert r.status_code == 405
    assert "GET" in r.headers["allow"] and "HEAD" in r.headers["allow"]


async def test_missing_static_folder_is_404(tmp_path: Path) -> None:
    a = make_tmp_app(tmp_path)
    async with PateraTestClient(a) as c:
        r = await c.get("/static/hello.txt")
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


async def test_large_file_is_streamed_in_chunks(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    payload = os.urandom(300 * 1024 + 7)
    (tmp_path / "static" / "big.bin").write_bytes(payload)
    a = make_tmp_app(tmp_path)
    status, headers, body, messages = await raw_request(a, "/static/big.bin")
    assert status == 200
    assert body == payload
    assert headers["content-length"] == str(len(payload))
    assert messages >= 5  # 64 KiB chunks plus the closing message


async def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "empty.txt").write_bytes(b"")
    a = make_tmp_app(tmp_path)
    status, headers, body, _ = await raw_request(a, "/static/empty.txt")
    assert (status, body, headers["content-length"]) == (200, b"", "0")
    status, headers, _, _ = await raw_request(a, "/static/empty.txt", [(b"range", b"bytes=0-")])
    assert (status, headers["content-range"]) == (416, "bytes */0")


async def test_filesystem_lookup_runs_in_thread_pool(client: PateraTestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import patera.static as static_mod

    threads: list[threading.Thread] = []
    original = static_mod._lookup

    def spy(root: str, parts: list[str]) -> Any:
        threads.append(threading.current_thread())
        return original(root, parts)

    monkeypatch.setattr(static_mod, "_lookup", spy)
    r = await client.get("/static/hello.txt")
    assert r.status_code == 200
    assert threads and threads[0] is not threading.main_thread()


# ---------------------------------------------------------------------- url_for and mounting


async def test_url_for_both_names() -> None:
    a = DataApp()
    a.register_controller(Api)
    async with PateraTestClient(a) as c:
        r = await c.get("/api/links")
        assert r.json() == {"a": "/static/img/a.png"}
        assert (await c.get(r.json()["a"])).content == (DATA / "img" / "a.png").read_bytes()
    assert a.url_for("Static.get", filename="img/a.png") == "/static/img/a.png"
    assert a.url_for("static", filename="sub/deep.txt") == "/static/sub/deep.txt"


def test_url_for_before_build() -> None:
    a = DataApp()
    assert a.url_for("static", filename="img/a.png") == "/static/img/a.png"
    assert a.url_for("Static.get", filename="img/a.png") == "/static/img/a.png"


async def test_custom_url_name_and_app_path_not_applied(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "x.txt").write_text("x!")

    class AssetsCfg(Cfg):
        STATIC_DIR: str = "/assets"
        STATIC_URL: str = "/files"
        STATIC_CONTROLLER_NAME: str = "assets"

    @app_path("/api")
    @app("__main__", configs=AssetsCfg)
    class PrefixedApp(Patera):
        pass

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        a = PrefixedApp()
    finally:
        os.chdir(cwd)
    assert a.url_for("assets", filename="x.txt") == "/files/x.txt"
    assert a.url_for("Static.get", filename="x.txt") == "/files/x.txt"
    async with PateraTestClient(a) as c:
        assert (await c.get("/files/x.txt")).text == "x!"
        assert (await c.get("/api/files/x.txt")).status_code == 404
    assert a.endpoints["Static.get"].spec.open_api_spec is False


# ---------------------------------------------------------------------- hostile paths


HOSTILE = [
    ("/static/../secret.txt", "dotdot"),
    ("/static/%2e%2e/secret.txt".replace("%2e%2e", ".."), "pct-2e2e-decoded"),
    ("/static/..%2fsecret.txt".replace("%2f", "/"), "dotdot-pct-2f-decoded"),
    ("/static/sub/../../secret.txt", "dotdot-nested"),
    ("/static/../static_evil/secret.txt", "sibling-prefix-dotdot"),
    ("/static/evil_dir/secret.txt", "sibling-prefix-symlink"),
    ("/static/link_out.txt", "symlink-out"),
    ("/static/..\\secret.txt", "backslash-dotdot"),
    ("/static/sub\\deep.txt", "backslash"),
    ("/static/C:/Windows/win.ini", "drive-letter"),
    ("/static/c:secret.txt", "drive-relative"),
    ("/static/sub/C:", "drive-segment"),
    ("/static/hello.txt\x00.png", "nul"),
    ("/static/\x00", "nul-only"),
    ("/static/CON", "device-con"),
    ("/static/con.txt", "device-con-ext"),
    ("/static/sub/aux", "device-aux-nested"),
    ("/static/LPT1.log", "device-lpt1"),
    ("/static/com9", "device-com9"),
    ("/static/nul .txt", "device-nul-space"),
    ("/static/.../secret.txt", "triple-dot"),
    ("/static/.. /secret.txt", "dotdot-space"),
    ("/static/\ud800.txt", "lone-surrogate"),
    ("/static/" + "a" * 5000, "name-too-long"),
]


@pytest.mark.parametrize("url", [h[0] for h in HOSTILE], ids=[h[1] for h in HOSTILE])
async def test_hostile_paths_are_404(hostile_app: Patera, url: str) -> None:
    status, headers, body, _ = await raw_request(hostile_app, url)
    assert status == 404, body
    assert b"secret" not in body
    assert headers["content-type"] == "application/json"
    assert body == b'{"status":"error","message":"Static asset not found"}'


async def test_symlink_type_follows_requested_name(hostile_app: Patera) -> None:
    status, headers, body, _ = await raw_request(hostile_app, "/static/latest.css")
    assert (status, body) == (200, HELLO)
    assert headers["content-type"] == "text/css; charset=utf-8"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/static/link_in.txt", HELLO),
        ("/static/%2e%2e/secret.txt", b"literal name, served"),
        ("/static/./hello.txt", HELLO),
        ("/static/sub/./deep.txt", b"nested file\n"),
    ],
    ids=["symlink-inside", "literal-pct-name", "dot-segment", "dot-segment-nested"],
)
async def test_safe_lookalikes_are_served(hostile_app: Patera, url: str, expected: bytes) -> None:
    status, _, body, _ = await raw_request(hostile_app, url)
    assert status == 200
    assert body == expected


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/etc/passwd",
        "a/../b",
        "..",
        "a\\b",
        "a\x00b",
        "C:x",
        "z:",
        "PRN",
        "prn.tar.gz",
        "COM1",
        "lpt9.x",
        "CONIN$",
        "./.",
    ],
    ids=[
        "empty",
        "absolute",
        "dotdot-middle",
        "dotdot",
        "backslash",
        "nul",
        "drive",
        "drive-lower",
        "prn",
        "prn-double-ext",
        "com1",
        "lpt9",
        "conin",
        "only-dots",
    ],
)
def test_split_rejects_before_filesystem(name: str) -> None:
    with pytest.raises(StaticAssetNotFound):
        split_static_path(name)


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("a/b.txt", ["a", "b.txt"]),
        ("a//b", ["a", "b"]),
        ("./a", ["a"]),
        (".hidden", [".hidden"]),
        ("console.txt", ["console.txt"]),
        ("com10", ["com10"]),
        ("a..b", ["a..b"]),
    ],
    ids=["plain", "double-slash", "leading-dot", "dotfile", "con-prefix-word", "com10", "dots-inside"],
)
def test_split_accepts_ordinary_names(name: str, parts: list[str]) -> None:
    assert split_static_path(name) == parts


# ---------------------------------------------------------------------- conditional requests


def _validators() -> tuple[str, str, int]:
    info = os.stat(DATA / "hello.txt")
    return etag_for(info), http_date(int(info.st_mtime)), int(info.st_mtime)


def _conditional_cases() -> Iterator[Any]:
    etag, last_modified, mtime = _validators()
    yield pytest.param({"If-None-Match": etag}, 304, id="inm-exact")
    yield pytest.param({"If-None-Match": "W/" + etag}, 304, id="inm-weak")
    yield pytest.param({"If-None-Match": f'"nope", {etag}'}, 304, id="inm-list")
    yield pytest.param({"If-None-Match": "*"}, 304, id="inm-star")
    yield pytest.param({"If-None-Match": '"nope"'}, 200, id="inm-other")
    yield pytest.param({"If-Modified-Since": last_modified}, 304, id="ims-equal")
    yield pytest.param({"If-Modified-Since": http_date(mtime + 3600)}, 304, id="ims-later")
    yield pytest.param({"If-Modified-Since": http_date(mtime - 3600)}, 200, id="ims-older")
    yield pytest.param({"If-Modified-Since": "not a date"}, 200, id="ims-garbage")
    yield pytest.param(
        {"If-None-Match": '"nope"', "If-Modified-Since": last_modified}, 200, id="inm-miss-beats-fresh-ims"
    )
    yield pytest.param(
        {"If-None-Match": etag, "If-Modified-Since": http_date(mtime - 3600)}, 304, id="inm-hit-beats-stale-ims"
    )


@pytest.mark.parametrize(("headers", "status"), list(_conditional_cases()))
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_conditional_requests(
    client: PateraTestClient, method: str, headers: dict[str, str], status: int
) -> None:
    etag, _, _ = _validators()
    r = await client.request(method, "/static/hello.txt", headers=headers)
    assert r.status_code == status
    assert r.headers["etag"] == etag
    if status == 304:
        assert r.content == b""
        assert "content-type" not in r.headers
    else:
        assert r.content == (HELLO if method == "GET" else b"")


# ---------------------------------------------------------------------- ranges


SIZE = len(HELLO)


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-4", 0, 4),
        ("bytes=0-0", 0, 0),
        ("bytes=5-", 5, SIZE - 1),
        ("bytes=-3", SIZE - 3, SIZE - 1),
        ("bytes=-1000", 0, SIZE - 1),
        ("bytes=3-1000", 3, SIZE - 1),
        (f"bytes={SIZE - 1}-{SIZE - 1}", SIZE - 1, SIZE - 1),
        ("Bytes = 1-2", 1, 2),
        ("bytes=0-" + "9" * 5000, 0, SIZE - 1),
    ],
    ids=[
        "first-last",
        "one-byte",
        "open-end",
        "suffix",
        "suffix-larger",
        "end-clamped",
        "last-byte",
        "spacing-case",
        "huge-last",
    ],
)
async def test_single_range(client: PateraTestClient, header: str, first: int, last: int) -> None:
    r = await client.get("/static/hello.txt", headers={"Range": header})
    assert r.status_code == 206
    assert r.content == HELLO[first : last + 1]
    assert r.headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
    assert r.headers["content-length"] == str(last - first + 1)
    assert r.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    "header",
    ["bytes=-0", f"bytes={SIZE}-", f"bytes={SIZE}-{SIZE + 10}", "bytes=1000-2000", "bytes=" + "9" * 10000 + "-"],
    ids=["suffix-zero", "start-at-size", "start-past-end", "far-past-end", "huge-start"],
)
async def test_unsatisfiable_range_is_416(client: PateraTestClient, header: str) -> None:
    r = await client.get("/static/hello.txt", headers={"Range": header})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{SIZE}"


@pytest.mark.parametrize(
    "header",
    [
        "items=0-1",
        "bytes=0-1,3-4",
        "bytes=0-1, 3-4",
        "bytes=a-b",
        "bytes=5-2",
        "bytes=\u0661-\u0662",
        "bytes=\u00b2-3",
        "bytes",
        "bytes=",
        "bytes=-",
        "bytes=0x1-2",
        "bytes=1",
        "bytes=+1-2",
        "bytes=1-2-3",
        "bytes=-+3",
    ],
    ids=[
        "other-unit",
        "multi",
        "multi-space",
        "letters",
        "reversed",
        "arabic-digits",
        "superscript",
        "no-equals",
        "empty-spec",
        "dash-only",
        "hex",
        "no-dash",
        "plus-sign",
        "two-dashes",
        "suffix-plus",
    ],
)
async def test_ignored_range_gives_full_body(client: PateraTestClient, header: str) -> None:
    assert parse_range(header, SIZE) is None  # also as text, before any wire encoding
    r = await client.get("/static/hello.txt", headers={"Range": header.encode("utf-8")})
    assert r.status_code == 200
    assert r.content == HELLO
    assert "content-range" not in r.headers


def _if_range_cases() -> Iterator[Any]:
    etag, last_modified, mtime = _validators()
    yield pytest.param(etag, 206, id="etag-match")
    yield pytest.param("W/" + etag, 200, id="weak-etag-never-matches")
    yield pytest.param('"other"', 200, id="etag-other")
    yield pytest.param(last_modified, 206, id="date-match")
    yield pytest.param(http_date(mtime - 10), 200, id="date-older")
    yield pytest.param(http_date(mtime + 10), 200, id="date-newer")
    yield pytest.param("garbage", 200, id="garbage")


@pytest.mark.parametrize(("if_range", "status"), list(_if_range_cases()))
async def test_if_range(client: PateraTestClient, if_range: str, status: int) -> None:
    r = await client.get("/static/hello.txt", headers={"Range": "bytes=0-4", "If-Range": if_range})
    assert r.status_code == status
    assert r.content == (HELLO[:5] if status == 206 else HELLO)


def test_parse_range_is_linear_on_hostile_headers() -> None:
    many = "bytes=" + ",".join(["0-0"] * 10_000)
    long_digits = "bytes=" + "1" * 100_000 + "-" + "2" * 100_000
    spaces = "bytes=" + " " * 100_000 + "0-1"
    started = time.perf_counter()
    for _ in range(20):
        assert parse_range(many, 100) is None
        assert parse_range(long_digits, 100) == UNSATISFIABLE
        assert parse_range(spaces, 100) == (0, 1)
    assert time.perf_counter() - started < 5.0  # hang guard: linear is ms, quadratic minutes


async def test_many_ranges_request_is_fast(client: PateraTestClient) -> None:
    header = "bytes=" + ",".join(["0-0", "1-1"] * 5_000)
    started = time.perf_counter()
    r = await client.get("/static/hello.txt", headers={"Range": header})
    assert time.perf_counter() - started < 5.0  # hang guard: linear is ms, quadratic minutes
    assert r.status_code == 200
    assert r.content == HELLO


def test_parse_range_empty_file() -> None:
    assert parse_range("bytes=0-0", 0) == UNSATISFIABLE
    assert parse_range("bytes=-5", 0) == UNSATISFIABLE
    assert parse_range("bytes=0-", 0) == UNSATISFIABLE


# ---------------------------------------------------------------------- real server


async def test_under_hypercorn(hostile_app: Patera) -> None:
    async with hypercorn_server(hostile_app) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            r = await http.get("/static/hello.txt")
            assert r.status_code == 200
            assert r.content == HELLO
            assert r.headers["content-length"] == str(SIZE)
            etag = r.headers["etag"]
            r = await http.get("/static/hello.txt", headers={"Range": "bytes=7-12"})
            assert r.status_code == 206
            assert r.content == HELLO[7:13]
            assert r.headers["content-range"] == f"bytes 7-12/{SIZE}"
            r = await http.head("/static/img/a.png")
            assert r.status_code == 200 and r.content == b""
            assert r.headers["content-length"] == str((DATA / "img" / "a.png").stat().st_size)
            r = await http.get("/static/hello.txt", headers={"If-None-Match": etag})
            assert r.status_code == 304
        # Raw bytes, so no client normalises the traversal; the server decodes %2e%2e to "..".
        for target in (b"/static/%2e%2e/secret.txt", b"/static/..%2fsecret.txt", b"/static/evil_dir/secret.txt"):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            assert answer.startswith(b"HTTP/1.1 404"), answer[:80]
            assert b"secret" not in answer.partition(b"\r\n\r\n")[2]
