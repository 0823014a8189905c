"""Templates (SPEC §11, §4.3 html methods, §8.2 HtmlAborterException)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest

from patera import BaseConfig, HttpStatus, Patera, app, html_abort
from patera._templates import create_environment, render_template
from patera.controller import Controller, get, path
from patera.exceptions import ExceptionHandler, MissingDependency, handles
from patera.request import Request
from patera.response import Response
from patera.testing import PateraTestClient

TEMPLATES = Path(__file__).parent / "data" / "templates"
REPO = Path(__file__).parent.parent


class Cfg(BaseConfig):
    APP_NAME: str = "tpl-tests"
    VERSION: str = "1"
    BASE_PATH: str = "."
    ACCESS_LOG: bool = False
    DEBUG: bool = False
    CORS_ALLOW_CREDENTIALS: bool = False
    TEMPLATES_DIR: str = "/data/templates"
    STATIC_DIR: str = "/data/static"


class LenientCfg(Cfg):
    TEMPLATES_STRICT: bool = False


@path("/t")
class Pages(Controller):
    @get("/page")
    async def page(self, req: Request) -> Response[Any]:
        ctx = {"title": "Hi", "body": "<b>x</b>", "items": [1, 2, 3], "obj": SimpleNamespace(name="obj-name")}
        return await req.res.html("page.html", ctx)

    @get("/created")
    async def created(self, req: Request) -> Response[Any]:
        return await req.response.html("err.html", {"x": "made"}).status(201)

    @get("/paren")
    async def paren(self, req: Request) -> Response[Any]:
        return (await req.response.html("err.html", {"x": 1})).status(200)

    @get("/readme")
    async def readme(self, req: Request) -> Response[Any]:
        return await (req.response.html("err.html", {"x": "readme"})).status(HttpStatus.OK)

    @get("/string")
    async def string(self, req: Request) -> Response[Any]:
        return await req.response.html_from_string("<p>{{ v }}</p>", {"v": req.query_params.get("v", "")})

    @get("/strict")
    async def strict(self, req: Request) -> Response[Any]:
        return await req.response.html("strict.html")

    @get("/plain")
    async def plain(self, req: Request) -> Response[Any]:
        return await req.response.html("plain.txt", {"body": "<b>raw</b>"})

    @get("/globals")
    async def globals_(self, req: Request) -> Response[Any]:
        return await req.response.html("globals.html", {"user": "caller", "site": "caller-site"})

    @get("/abort")
    async def abort_page(self, req: Request) -> Response[Any]:
        html_abort("err.html", 404, {"x": 1})
        raise AssertionError("unreachable")

    @get("/abort-no-data")
    async def abort_no_data(self, req: Request) -> Response[Any]:
        html_abort("forbidden.html", HttpStatus.FORBIDDEN)
        raise AssertionError("unreachable")

    @get("/missing")
    async def missing(self, req: Request) -> Response[Any]:
        return await req.response.html("nope.html")

    @get("/added")
    async def added(self, req: Request) -> Response[Any]:
        return await req.response.html("added.html", {"who": "<me>"})


class CatchAll(ExceptionHandler):
    """Must never see HtmlAborterException (it bypasses handlers)."""

    @handles(Exception)
    async def anything(self, req: Request, exc: Exception) -> Response[Any]:
        return req.response.json({"handled": type(exc).__name__}).status(418)


@app(__name__, configs=Cfg)
class TplApp(Patera):
    pass


@app(__name__, configs=LenientCfg)
class LenientApp(Patera):
    pass


def make(cls: type[Patera] = TplApp, *handlers: type[ExceptionHandler]) -> Patera:
    a = cls()
    a.register_controller(Pages)
    if handlers:
        a.register_exception_handler(*handlers)
    return a


# NOTE: constructing an app costs tens of milliseconds (logger sinks), so read-only tests share these.
_SHARED = make()
_SHARED_HANDLED = make(TplApp, CatchAll)


@pytest.fixture
async def client() -> Any:
    async with PateraTestClient(_SHARED) as c:
        yield c


# ---------------------------------------------------------------------- rendering


async def test_html_renders_file_with_framework_context(client: PateraTestClient) -> None:
    r = await client.get("/t/page")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text.strip() == (
        '<h1>Hi</h1><p>&lt;b&gt;x&lt;/b&gt;</p><a href="/static/img/a.png">img</a><i>3</i><b>obj-name</b>'
    )


@pytest.mark.parametrize(
    ("url", "status", "text"),
    [
        ("/t/created", 201, "<p>error made</p>"),
        ("/t/paren", 200, "<p>error 1</p>"),
        ("/t/readme", 200, "<p>error readme</p>"),
    ],
    ids=["chained-before-await", "status-after-await", "readme-form"],
)
async def test_status_chaining_forms(client: PateraTestClient, url: str, status: int, text: str) -> None:
    r = await client.get(url)
    assert r.status_code == status
    assert r.text.strip() == text
    assert r.headers["content-type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "<p>plain</p>"),
        ("<script>x</script>", "<p>&lt;script&gt;x&lt;/script&gt;</p>"),
        ('"&', "<p>&#34;&amp;</p>"),
    ],
    ids=["plain", "script", "quote-amp"],
)
async def test_html_from_string_autoescapes(client: PateraTestClient, value: str, expected: str) -> None:
    r = await client.get("/t/string", params={"v": value})
    assert r.status_code == 200
    assert r.text == expected


async def test_non_html_template_is_not_escaped(client: PateraTestClient) -> None:
    r = await client.get("/t/plain")
    assert r.text.strip() == "<b>raw</b>"


async def test_strict_undefined_is_an_error(client: PateraTestClient) -> None:
    r = await client.get("/t/strict")
    assert r.status_code == 500
    assert r.json() == {"status": "error", "message": "Internal server error"}


async def test_strict_undefined_raises_in_debug() -> None:
    a = make()
    a.debug = True
    async with PateraTestClient(a) as c:
        with pytest.raises(jinja2.UndefinedError):
            await c.get("/t/strict")


async def test_lenient_undefined_renders_empty() -> None:
    async with PateraTestClient(make(LenientApp)) as c:
        r = await c.get("/t/strict")
    assert r.status_code == 200
    assert r.text.strip() == "<p>[]</p>"


async def test_add_template_path() -> None:
    a = make()
    a.add_template_path(str(TEMPLATES / "extra"))
    async with PateraTestClient(a) as c:
        r = await c.get("/t/added")
    assert r.text.strip() == "<p>added &lt;me&gt;</p>"


# ---------------------------------------------------------------------- global context


async def test_global_context_methods_sync_and_async() -> None:
    a = make()
    calls: list[str] = []

    def sync_ctx() -> dict[str, Any]:
        calls.append("sync")
        return {"site": "from-sync", "user": "from-sync"}

    async def async_ctx() -> dict[str, Any]:
        calls.append("async")
        return {"user": "from-async"}

    a.add_global_context_method(sync_ctx)
    a.add_global_context_method(async_ctx)
    async with PateraTestClient(a) as c:
        r = await c.get("/t/globals")
    assert r.status_code == 200
    # caller context is updated by each method in order, then the framework keys
    assert r.text.strip() == "from-sync|from-async|/t/globals"
    assert calls == ["sync", "async"]


@pytest.mark.parametrize("result", [None, ["x"], "text"], ids=["none", "list", "str"])
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_global_context_method_must_return_dict(kind: str, result: Any) -> None:
    a = make()
    if kind == "sync":
        a.add_global_context_method(lambda: result)
    else:

        async def bad() -> Any:
            return result

        a.add_global_context_method(bad)
    with pytest.raises(ValueError, match="must return a dict"):
        await render_template(a, "x", None, is_file=False)
    async with PateraTestClient(a) as c:
        r = await c.get("/t/globals")
    assert r.status_code == 500


async def test_framework_keys_win_over_caller_context() -> None:
    text = await render_template(
        _SHARED,
        "{{ app.app_name }} {{ url_for('Static.get', filename='x.css') }} {{ len([1]) }}",
        {"app": "caller", "url_for": "caller", "len": "caller"},
        is_file=False,
    )
    assert text == "tpl-tests /static/x.css 1"


async def test_request_defaults_to_none_or_caller_value() -> None:
    assert await render_template(_SHARED, "{{ request is none }}", None, is_file=False) == "True"
    assert await render_template(_SHARED, "{{ request }}", {"request": "given"}, is_file=False) == "given"


# ---------------------------------------------------------------------- html_abort and errors


async def test_html_abort_renders_with_status(client: PateraTestClient) -> None:
    r = await client.get("/t/abort")
    assert r.status_code == 404
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text.strip() == "<p>error 1</p>"


async def test_html_abort_bypasses_exception_handlers() -> None:
    async with PateraTestClient(_SHARED_HANDLED) as c:
        r = await c.get("/t/abort")
        assert r.status_code == 404
        assert r.text.strip() == "<p>error 1</p>"
        r = await c.get("/t/abort-no-data")
        assert r.status_code == 403
        assert r.text.strip() == "<p>forbidden 0</p>"  # no data: empty caller context


async def test_missing_template_is_500(client: PateraTestClient) -> None:
    r = await client.get("/t/missing")
    assert r.status_code == 500


async def test_missing_template_can_be_handled() -> None:
    class NoTemplate(ExceptionHandler):
        @handles(jinja2.TemplateNotFound)
        async def missing(self, req: Request, exc: jinja2.TemplateNotFound) -> Response[Any]:
            return req.response.json({"missing": exc.name}).status(404)

    async with PateraTestClient(make(TplApp, NoTemplate)) as c:
        r = await c.get("/t/missing")
    assert r.status_code == 404
    assert r.json() == {"missing": "nope.html"}


async def test_unbound_response_cannot_render() -> None:
    with pytest.raises(RuntimeError, match="app"):
        await Response().html_from_string("<p>x</p>")


def test_environment_settings() -> None:
    strict_env = create_environment(_SHARED)
    lenient_env = create_environment(make(LenientApp))
    assert strict_env.undefined is jinja2.StrictUndefined
    assert lenient_env.undefined is jinja2.Undefined
    assert strict_env.is_async and strict_env.auto_reload
    assert strict_env.autoescape("page.html") and strict_env.autoescape("feed.xml") and strict_env.autoescape("a.htm")
    assert not strict_env.autoescape("plain.txt")
    assert strict_env.autoescape(None)  # string templates
    assert _SHARED.jinja_environment is _SHARED.jinja_environment  # created once, lazily


# ---------------------------------------------------------------------- optional dependency


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_import_patera_does_not_import_jinja2() -> None:
    proc = _run(
        """
        import sys
        import patera, patera.response, patera.app, patera.static
        assert "jinja2" not in sys.modules, "jinja2 imported"
        assert "patera._templates" not in sys.modules
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_missing_jinja2_raises_missing_dependency() -> None:
    proc = _run(
        """
        import asyncio, sys
        sys.modules["jinja2"] = None
        from patera import BaseConfig, MissingDependency, Patera, app

        class Cfg(BaseConfig):
            APP_NAME: str = "x"; VERSION: str = "1"; BASE_PATH: str = "."; ACCESS_LOG: bool = False

        @app("__main__", configs=Cfg)
        class A(Patera):
            pass

        a = A()
        for attempt in (
            lambda: a.jinja_environment,
            lambda: asyncio.run(a.response_class(a).html_from_string("x")._finish()),
        ):
            try:
                attempt()
            except MissingDependency as exc:
                assert isinstance(exc, ImportError)
                assert 'patera[templates]' in str(exc), str(exc)
                print(exc)
            else:
                raise SystemExit("no MissingDependency")
        """
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines == ['Jinja2 is required for templates: pip install "patera[templates]"'] * 2


def test_missing_dependency_type() -> None:
    exc = MissingDependency("Jinja2", extra="templates", feature="templates")
    assert isinstance(exc, ImportError) and exc.extra == "templates" and exc.package == "Jinja2"
