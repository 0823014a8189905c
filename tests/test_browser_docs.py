"""The docs page in a real browser, offline (SPEC §12).

``examples/api`` runs under real hypercorn in this test's event loop and headless Chromium loads
``/openapi/docs`` with every host name but 127.0.0.1 unresolvable, so nothing can come from the
internet. With the ``docs`` extra Swagger UI is served by the app and renders every operation;
with the extra made unavailable the page falls back to the CDN, which cannot load, and the
plain-text note with the link to ``specs.json`` is what the browser shows. Loopback only,
bounded in time; skipped without ``/usr/bin/chromium`` or hypercorn.
"""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path
from typing import Any

import pytest

import patera._swagger_assets as swagger_assets
from examples.api.app import Application

from ._chromium import CHROMIUM, OFFLINE, dump_dom
from ._servers import hypercorn_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]

_OPERATION_RE = re.compile(r'class="opblock-summary-method">(\w+)</span>.*?data-path="([^"]+)"', re.S)


def documented_operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), route) for route, item in spec["paths"].items() for method in item}


def fallback_block(dom: str) -> str:
    match = re.search(r'<div id="docs-fallback"[^>]*>.*?</div>', dom, re.S)
    assert match is not None, dom[:3000]
    return match.group(0)


async def load_docs(profile: Path) -> tuple[str, dict[str, Any]]:
    application = Application()
    async with hypercorn_server(application) as port:
        dom = await dump_dom(f"http://127.0.0.1:{port}/openapi/docs", profile, OFFLINE)
    spec = application.json_spec
    assert spec is not None
    return dom, spec


def test_with_the_docs_extra_the_page_renders_every_operation_offline(tmp_path: Path) -> None:
    if swagger_assets.bundled_swagger_ui() is None:
        pytest.skip("needs the docs extra (swagger-ui-bundle-v2)")
    dom, spec = asyncio.run(load_docs(tmp_path / "profile"))
    rendered = {(method.upper(), html.unescape(route)) for method, route in _OPERATION_RE.findall(dom)}
    expected = documented_operations(spec)
    assert len(expected) >= 5
    assert rendered == expected, dom[:3000]
    assert re.search(r'<div id="docs-fallback"[^>]*\bhidden\b', dom), fallback_block(dom)  # note hidden once rendered


def test_without_the_assets_the_fallback_text_is_visible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The extra "missing"; the CDN (the default OPEN_API_SWAGGER_CDN) is unreachable offline.
    monkeypatch.setattr(swagger_assets, "bundled_swagger_ui", lambda: None)
    dom, _ = asyncio.run(load_docs(tmp_path / "profile"))
    block = fallback_block(dom)
    opening = block.split(">", 1)[0]
    assert "hidden" not in opening and "display: none" not in opening
    text = html.unescape(re.sub(r"<[^>]+>", "", block))
    assert "Swagger UI could not be loaded" in text
    assert "/openapi/specs.json" in text
    assert '<a href="/openapi/specs.json">' in block
    assert "opblock" not in dom  # nothing of Swagger UI rendered
