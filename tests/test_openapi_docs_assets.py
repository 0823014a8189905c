"""The docs page works offline (SPEC §12): Swagger UI's files from the ``docs`` extra, served by the app.

With the extra the page points at ``{OPEN_API_URL}/assets/…`` and never at the CDN; the files are
streamed from disk with validators and a cache lifetime, and only the allow-listed names are
served. Without the extra the page loads the CDN and carries a plain-text note with a link to
``specs.json``. The real-browser checks are in ``tests/test_browser_docs.py``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import patera._swagger_assets as swagger_assets
from patera.controller import Controller, get, path
from patera.request import Request
from patera.response import Response
from patera.testing import PateraTestClient

from .conftest import build_app

BUNDLE = swagger_assets.bundled_swagger_ui()
needs_bundle = pytest.mark.skipif(BUNDLE is None, reason="needs the docs extra (swagger-ui-bundle-v2)")


@path("/items")
class Items(Controller):
    @get("/<int:item_id>")
    async def get_item(self, req: Request, item_id: int) -> Response[Any]:
        return req.response.json({"id": item_id})


@pytest.fixture
def without_docs_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(swagger_assets, "bundled_swagger_ui", lambda: None)


async def call(application: Any, url: str, headers: list[tuple[bytes, bytes]] | None = None) -> list[dict[str, Any]]:
    """One GET straight through the ASGI interface; returns every message the app sent."""
    sent: list[dict[str, Any]] = []
    requested = False
    finished = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()  # a streaming response listens for a disconnect meanwhile
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    path_part, _, query = url.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path_part, "raw_path": path_part.encode(), "root_path": "", "query_string": query.encode(),
        "headers": [(b"host", b"testserver"), *(headers or [])], "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    try:
        await asyncio.wait_for(application(scope, receive, send), 30)
    finally:
        finished.set()
    return sent


@needs_bundle
def test_the_bundle_is_swagger_ui_5() -> None:
    assert BUNDLE is not None
    assert BUNDLE.name.startswith("swagger-ui-5.")
    assert b"SwaggerUIBundle" in (BUNDLE / "swagger-ui-bundle.js").read_bytes()[:2000]


@needs_bundle
async def test_page_uses_the_apps_own_assets() -> None:
    async with PateraTestClient(build_app(Items)) as client:
        page = (await client.get("/openapi/docs")).text
    assert BUNDLE is not None
    version = BUNDLE.name
    assert f'<script src="/openapi/assets/swagger-ui-bundle.js?v={version}" onerror=' in page
    assert f'<link rel="stylesheet" href="/openapi/assets/swagger-ui.css?v={version}">' in page
    assert "jsdelivr" not in page and "https:" not in page
    assert '<a href="/openapi/specs.json">' in page  # the note shown until Swagger UI has rendered


@needs_bundle
@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("swagger-ui.css", "text/css; charset=utf-8"),
        ("favicon-32x32.png", "image/png"),
    ],
)
async def test_assets_are_streamed_with_cache_headers(name: str, content_type: str) -> None:
    assert BUNDLE is not None
    expected = (BUNDLE / name).read_bytes()
    sent = await call(build_app(Items), f"/openapi/assets/{name}?v=x")
    start, *bodies = sent
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert start["status"] == 200
    assert headers["content-type"].replace("application/javascript", "text/javascript") == content_type
    assert headers["content-length"] == str(len(expected))
    assert headers["cache-control"] == "public, max-age=604800"
    assert headers["etag"].startswith('"') and headers["last-modified"].endswith(" GMT")
    assert b"".join(m.get("body", b"") for m in bodies) == expected
    if len(expected) > 1_000_000:  # the 1.5 MB bundle arrives in chunks, not as one read
        assert len([m for m in bodies if m.get("body")]) > 1


@needs_bundle
async def test_conditional_requests_answer_304() -> None:
    application = build_app(Items)
    first = await call(application, "/openapi/assets/swagger-ui.css")
    etag = dict(first[0]["headers"])[b"etag"]
    again = await call(application, "/openapi/assets/swagger-ui.css", [(b"if-none-match", etag)])
    assert again[0]["status"] == 304
    assert b"".join(m.get("body", b"") for m in again[1:]) == b""


@needs_bundle
@pytest.mark.parametrize(
    "url",
    [
        "/openapi/assets/index.html",  # in the bundle's folder, but not served
        "/openapi/assets/swagger-ui-bundle.js.map",
        "/openapi/assets/../specs.json",
        "/openapi/assets/%2e%2e/%2e%2e/pyproject.toml",
        "/openapi/assets/..%2F..%2Fpyproject.toml",
        "/openapi/assets/sub/swagger-ui.css",
        "/openapi/assets/SWAGGER-UI.CSS",
        "/openapi/assets/swagger-ui.css%00",
        "/openapi/assets/",
    ],
)
async def test_only_allow_listed_names_are_served(url: str) -> None:
    # Straight through ASGI: an HTTP client would normalise "/../" before sending it.
    application = build_app(Items)
    sent = await call(application, url)
    status = sent[0]["status"]
    assert status in (404, 308), status
    if status == 308:  # the router's slash normalisation: where it points is refused too
        location = dict(sent[0]["headers"])[b"location"].decode()
        assert (await call(application, location))[0]["status"] == 404


@pytest.mark.usefixtures("without_docs_extra")
async def test_without_the_extra_the_cdn_and_a_visible_note() -> None:
    async with PateraTestClient(build_app(Items, OPEN_API_SWAGGER_CDN="https://cdn.example/sw")) as client:
        page = (await client.get("/openapi/docs")).text
        assert (await client.get("/openapi/assets/swagger-ui.css")).status_code == 404
    assert '<script src="https://cdn.example/sw/swagger-ui-bundle.js" crossorigin="anonymous" onerror=' in page
    assert '<div id="docs-fallback"' in page and "hidden" not in page.split('<div id="docs-fallback"')[1].split(">")[0]
    assert '<a href="/openapi/specs.json">' in page


@needs_bundle
async def test_assets_follow_the_app_path_and_open_api_url() -> None:
    application = build_app(Items, OPEN_API_URL="/api-docs")
    async with PateraTestClient(application) as client:
        page = (await client.get("/api-docs/docs")).text
        assert "/api-docs/assets/swagger-ui-bundle.js?v=" in page
        assert (await client.get("/api-docs/assets/swagger-ui-bundle.js")).status_code == 200


def test_bundle_lookup_without_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from importlib import metadata

    def not_installed(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", not_installed)
    assert swagger_assets.bundled_swagger_ui() is None


def test_bundle_is_found_through_the_docs_extras_distribution() -> None:
    from importlib import metadata

    folder = swagger_assets.bundled_swagger_ui()
    assert folder is not None
    record = {str(metadata.distribution("swagger-ui-bundle-v2").locate_file(f)) for f in
              metadata.distribution("swagger-ui-bundle-v2").files or ()}
    assert str(folder / "swagger-ui-bundle.js") in record
