"""OpenAPI 3.1 document and Swagger UI page (SPEC §12)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, ConfigDict, create_model

import patera.openapi as openapi_module
from patera import BaseConfig, HttpStatus, MediaType, Patera, Request, Response, UploadedFile, app, app_path
from patera.controller import (
    Controller,
    Descriptor,
    consumes,
    delete,
    development,
    get,
    open_api_docs,
    patch,
    path,
    post,
    produces,
    put,
    socket,
)
from patera.openapi import converter_schema, swagger_page
from patera.testing import PateraTestClient

from .conftest import build_app

# ---------------------------------------------------------------------- models

# Two different models that share the class name ``Item`` (as if from two modules).
CatalogItem = create_model("Item", __module__="shop.catalog", sku=(str, ...), price=(float, ...))
StockItem = create_model("Item", __module__="shop.stock", sku=(str, ...), count=(int, ...))


class Address(BaseModel):
    city: str
    zip_code: str | None = None


class Customer(BaseModel):
    id: int
    name: str
    addresses: list[Address]


class CustomerIn(BaseModel):
    name: str
    email: str


class Problem(BaseModel):
    title: str
    detail: str


class Login(BaseModel):
    username: str
    password: str


class Upload(BaseModel):
    title: str
    file: UploadedFile
    attachments: list[UploadedFile] = []
    cover: UploadedFile | None = None


class Report(BaseModel):
    catalog: list[CatalogItem]  # type: ignore[valid-type]
    stock: list[StockItem]  # type: ignore[valid-type]


# ---------------------------------------------------------------------- controllers


@path("/conv", tags=["Converters"])
class Converters(Controller):
    @get("/int/<int:a>/<int(signed=True):b>/<int(min=1, max=10):c>/<int(fixed_digits=4):d>")
    async def ints(self, req: Request, a: int, b: int, c: int, d: int) -> Response[dict[str, int]]:
        return req.response.json({"a": a, "b": b, "c": c, "d": d})

    @get("/float/<float:x>/<float(signed=True, min=-1.5, max=2.5):y>")
    async def floats(self, req: Request, x: float, y: float) -> Response[dict[str, float]]:
        return req.response.json({"x": x, "y": y})

    @get("/str/<name>/<string(length=2):cc>/<string(minlength=2, maxlength=5):s>")
    async def strings(self, req: Request, name: str, cc: str, s: str) -> Response[list[str]]:
        return req.response.json([name, cc, s])

    @get("/any/<any(about, help, 'a b'):page>")
    async def choice(self, req: Request, page: str) -> Response[str]:
        return req.response.json(page)

    @get("/uuid/<uuid:oid>")
    async def by_uuid(self, req: Request, oid: uuid.UUID) -> Response[uuid.UUID]:
        return req.response.json(oid)

    @get("/files/<path:p>/edit")
    async def files(self, req: Request, p: str) -> Response[str]:
        return req.response.json(p)


@path("/customers", tags=["Customers"])
class Customers(Controller):
    @get("/")
    async def list_customers(self, req: Request) -> Response[list[Customer]]:
        """List every customer.

        Ordered by id; addresses are nested models.
        """
        return req.response.json([])

    @get("/<int:cid>", tags=["Lookup"])
    @open_api_docs(
        Descriptor(status=HttpStatus.NOT_FOUND, description="No such customer", body=Problem),
        Descriptor(status=HttpStatus.NOT_FOUND, media_type=MediaType.APPLICATION_PROBLEM_JSON, body=Problem),
        Descriptor(status=HttpStatus.OK, description="The customer", body=Customer),
        Descriptor(status=HttpStatus.UNAUTHORIZED, description="Log in first"),
    )
    async def get_customer(self, req: Request, cid: int) -> Response[Customer]:
        """Fetch one customer."""
        return req.response.json({"id": cid, "name": "n", "addresses": []})

    @post("/")
    @consumes(MediaType.APPLICATION_JSON)
    @produces(MediaType.APPLICATION_JSON, HttpStatus.CREATED)
    async def create(self, req: Request, data: CustomerIn) -> Response[Customer]:
        return req.response.json({"id": 1, "name": data.name, "addresses": []})

    @put("/<int:cid>")
    @consumes(MediaType.APPLICATION_PROBLEM_JSON)
    async def replace(self, req: Request, cid: int, data: CustomerIn) -> Response[Customer]:
        return req.response.json({"id": cid, "name": data.name, "addresses": []})

    @patch("/<int:cid>/raw")
    @consumes(MediaType.APPLICATION_OCTET_STREAM)
    @produces(MediaType.TEXT_PLAIN)
    async def raw(self, req: Request, cid: int) -> Response:
        return req.response.text(str(len(await req.body())))

    @delete("/<int:cid>")
    @produces(MediaType.NO_CONTENT, HttpStatus.NO_CONTENT)
    async def remove(self, req: Request, cid: int) -> Response:
        return req.response.no_content()


@path("/forms")
class Forms(Controller):
    @post("/login")
    @consumes(MediaType.APPLICATION_X_WWW_FORM_URLENCODED)
    async def login(self, req: Request, form: Login) -> Response[dict[str, str]]:
        return req.response.json({"user": form.username})

    @post("/upload")
    @consumes(MediaType.MULTIPART_FORM_DATA)
    @produces(MediaType.APPLICATION_JSON, HttpStatus.CREATED)
    async def upload(self, req: Request, data: Upload) -> Response[Upload]:
        return req.response.json(data)

    @get("/report")
    async def report(self, req: Request) -> Response[Report]:
        return req.response.json({"catalog": [], "stock": []})

    @get("/page")
    @produces(MediaType.TEXT_HTML)
    async def page(self, req: Request) -> Response:
        return req.response.text("<p>hi</p>")

    @get("/image")
    @produces(MediaType.IMAGE_PNG)
    async def image(self, req: Request) -> Response:
        return req.response.send_file(b"\x89PNG")

    @get("/untyped")
    async def untyped(self, req: Request) -> Response:
        return req.response.json({"anything": True})

    @get("/hidden", open_api_spec=False)
    async def hidden(self, req: Request) -> Response:
        return req.response.json({})

    @development
    @get("/dev")
    async def dev_only(self, req: Request) -> Response:
        return req.response.json({})

    @socket("/ws")
    async def ws(self, req: Request) -> None:
        await req.accept()
        await req.close()


@path("/internal", open_api_spec=False)
class Internal(Controller):
    @get("/")
    async def index(self, req: Request) -> Response:
        return req.response.json({})


@development
@path("/devtools")
class DevTools(Controller):
    @get("/")
    async def index(self, req: Request) -> Response:
        return req.response.json({})


ALL = (Converters, Customers, Forms, Internal, DevTools)


def spec_of(**config: Any) -> dict[str, Any]:
    application = build_app(*ALL, **config)
    spec = application.json_spec
    assert spec is not None
    return spec


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return spec_of()


# ---------------------------------------------------------------------- the document


def test_document_validates_as_openapi_31(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert spec["info"] == {"title": "test", "version": "1.0", "description": "Simple API"}
    json.dumps(spec)  # plain JSON, nothing pydantic-specific left in it


def test_validates_with_debug_off_too() -> None:
    validate(spec_of(DEBUG=False))


def test_paths_and_exclusions(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    assert "/customers/" in paths and "/customers/{cid}" in paths
    assert set(paths["/customers/{cid}"]) == {"get", "put", "delete"}
    assert "/forms/hidden" not in paths  # endpoint open_api_spec=False
    assert "/internal/" not in paths  # controller open_api_spec=False
    assert "/forms/ws" not in paths  # websockets never listed
    assert not any(p.startswith("/openapi") for p in paths)  # its own routes
    assert not any(p.startswith("/static") for p in paths)
    for item in paths.values():
        assert not {"head", "options"} & set(item)
    # DEBUG on: development endpoints and controllers are registered, hence documented
    assert "/forms/dev" in paths and "/devtools/" in paths


def test_development_endpoints_absent_when_debug_off() -> None:
    paths = spec_of(DEBUG=False)["paths"]
    assert "/forms/dev" not in paths
    assert "/devtools/" not in paths
    assert "/forms/report" in paths


def test_path_parameters_per_converter(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    ints = paths["/conv/int/{a}/{b}/{c}/{d}"]["get"]["parameters"]
    assert [p["name"] for p in ints] == ["a", "b", "c", "d"]
    assert all(p["in"] == "path" and p["required"] is True for p in ints)
    assert [p["schema"] for p in ints] == [
        {"type": "integer", "minimum": 0},
        {"type": "integer"},
        {"type": "integer", "minimum": 1, "maximum": 10},
        {"type": "integer", "minimum": 1000, "maximum": 9999},
    ]
    floats = paths["/conv/float/{x}/{y}"]["get"]["parameters"]
    assert [p["schema"] for p in floats] == [
        {"type": "number", "minimum": 0},
        {"type": "number", "minimum": -1.5, "maximum": 2.5},
    ]
    strings = paths["/conv/str/{name}/{cc}/{s}"]["get"]["parameters"]
    assert [p["schema"] for p in strings] == [
        {"type": "string", "pattern": "^[^/]*$", "minLength": 1},
        {"type": "string", "pattern": "^[^/]*$", "minLength": 2, "maxLength": 2},
        {"type": "string", "pattern": "^[^/]*$", "minLength": 2, "maxLength": 5},
    ]
    assert paths["/conv/any/{page}"]["get"]["parameters"][0]["schema"] == {
        "type": "string",
        "enum": ["about", "help", "a b"],
    }
    assert paths["/conv/uuid/{oid}"]["get"]["parameters"][0]["schema"] == {"type": "string", "format": "uuid"}
    assert paths["/conv/files/{p}/edit"]["get"]["parameters"][0]["schema"] == {
        "type": "string",
        "x-greedy-path": True,
    }


def test_operation_ids_docstrings_and_tags(spec: dict[str, Any]) -> None:
    listing = spec["paths"]["/customers/"]["get"]
    assert listing["operationId"] == "Customers_list_customers"
    assert listing["summary"] == "List every customer."
    assert listing["description"] == "List every customer.\n\nOrdered by id; addresses are nested models."
    assert listing["tags"] == ["Customers"]
    one = spec["paths"]["/customers/{cid}"]["get"]
    assert one["tags"] == ["Lookup", "Customers"]  # endpoint tags first, then the controller's
    assert one["summary"] == one["description"] == "Fetch one customer."
    create = spec["paths"]["/customers/"]["post"]
    assert "summary" not in create and "description" not in create
    assert spec["paths"]["/forms/report"]["get"]["tags"] == ["Forms"]  # default tag = class name
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert {"name": "Lookup"} in spec["tags"]


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema["$ref"]
    assert ref.startswith("#/components/schemas/")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_response_models_hoisted_into_components(spec: dict[str, Any]) -> None:
    listing = spec["paths"]["/customers/"]["get"]["responses"]["200"]
    schema = listing["content"]["application/json"]["schema"]
    assert schema["type"] == "array"
    customer = resolve(spec, schema["items"])
    address = resolve(spec, customer["properties"]["addresses"]["items"])
    assert set(address["properties"]) == {"city", "zip_code"}
    assert "$defs" not in json.dumps(spec)


def test_same_named_models_get_distinct_keys(spec: dict[str, Any]) -> None:
    ok = spec["paths"]["/forms/report"]["get"]["responses"]["200"]
    report = resolve(spec, ok["content"]["application/json"]["schema"])
    catalog = resolve(spec, report["properties"]["catalog"]["items"])
    stock = resolve(spec, report["properties"]["stock"]["items"])
    assert report["properties"]["catalog"]["items"] != report["properties"]["stock"]["items"]
    assert set(catalog["properties"]) == {"sku", "price"}
    assert set(stock["properties"]) == {"sku", "count"}


def test_produces_status_media_type_and_no_content(spec: dict[str, Any]) -> None:
    created = spec["paths"]["/customers/"]["post"]["responses"]
    assert "201" in created and "200" not in created
    assert resolve(spec, created["201"]["content"]["application/json"]["schema"])["title"] == "Customer"
    removed = spec["paths"]["/customers/{cid}"]["delete"]["responses"]
    assert removed["204"] == {"description": "No Content"}
    # a path variable its converter refuses is a 404 from the router
    assert resolve(spec, removed["404"]["content"]["application/json"]["schema"])["required"] == ["status", "message"]
    assert "404" not in spec["paths"]["/customers/"]["get"]["responses"]  # no path variables
    assert spec["paths"]["/forms/page"]["get"]["responses"]["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}}
    }
    assert spec["paths"]["/forms/image"]["get"]["responses"]["200"]["content"] == {
        "image/png": {"schema": {"type": "string", "format": "binary"}}
    }
    assert spec["paths"]["/forms/untyped"]["get"]["responses"]["200"]["content"] == {
        "application/json": {"schema": {"type": "object"}}
    }
    assert spec["paths"]["/conv/uuid/{oid}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "string",
        "format": "uuid",
    }


def test_descriptors_merged_by_status(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/customers/{cid}"]["get"]["responses"]
    assert list(responses) == ["200", "401", "404"]
    assert responses["404"]["description"] == "No such customer"
    assert set(responses["404"]["content"]) == {"application/json", "application/problem+json"}
    # the endpoint's own 404 body replaces the framework's generic one
    assert resolve(spec, responses["404"]["content"]["application/json"]["schema"])["title"] == "Problem"
    # same status as the main response: description replaced, identical schema not duplicated
    assert responses["200"]["description"] == "The customer"
    assert resolve(spec, responses["200"]["content"]["application/json"]["schema"])["title"] == "Customer"
    assert responses["401"] == {"description": "Log in first"}


def test_request_bodies_for_every_consumes_type(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    json_body = paths["/customers/"]["post"]["requestBody"]
    assert json_body["required"] is True
    assert resolve(spec, json_body["content"]["application/json"]["schema"])["title"] == "CustomerIn"
    problem = paths["/customers/{cid}"]["put"]["requestBody"]
    assert list(problem["content"]) == ["application/problem+json"]
    form = paths["/forms/login"]["post"]["requestBody"]
    assert resolve(spec, form["content"]["application/x-www-form-urlencoded"]["schema"])["title"] == "Login"
    raw = paths["/customers/{cid}/raw"]["patch"]["requestBody"]
    assert raw == {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "required": False,
    }
    for op in (paths["/customers/"]["post"], paths["/forms/login"]["post"], paths["/forms/upload"]["post"]):
        responses = op["responses"]
        assert (
            resolve(spec, responses["422"]["content"]["application/json"]["schema"])["properties"]["data"]["type"]
            == "array"
        )
        assert "expected" in resolve(spec, responses["415"]["content"]["application/json"]["schema"])["properties"]
    assert "422" not in paths["/customers/{cid}/raw"]["patch"]["responses"]  # nothing to validate
    assert "415" in paths["/customers/{cid}/raw"]["patch"]["responses"]


def test_multipart_files_are_binary(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/forms/upload"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    props = schema["properties"]
    assert props["file"] == {"type": "string", "format": "binary"}
    assert props["attachments"]["items"] == {"type": "string", "format": "binary"}
    assert {"type": "string", "format": "binary"} in props["cover"]["anyOf"]
    assert props["title"]["type"] == "string"
    assert body["required"] is True
    # in JSON responses an UploadedFile is its summary object
    out = resolve(
        spec, spec["paths"]["/forms/upload"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    )
    assert out["properties"]["file"]["type"] == "object"


Error = create_model("Error", __module__="user.models", code=(int, ...))


class Opaque:
    pass


class Holder(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    thing: Opaque


def test_framework_component_names_do_not_clobber_user_models() -> None:
    @path("/e")
    class Errs(Controller):
        @post("/")
        @consumes(MediaType.APPLICATION_JSON)
        async def make(self, req: Request, data: CustomerIn) -> Response[Error]:  # type: ignore[valid-type]
            return req.response.json({"code": 1})

    spec = build_app(Errs).json_spec
    assert spec is not None
    validate(spec)
    schemas = spec["components"]["schemas"]
    assert schemas["Error"]["properties"] == {"code": {"title": "Code", "type": "integer"}}
    assert (
        resolve(spec, spec["paths"]["/e/"]["post"]["responses"]["400"]["content"]["application/json"]["schema"])
        is not schemas["Error"]
    )


def test_unschemable_type_degrades_to_object() -> None:
    @path("/o")
    class Odd(Controller):
        @get("/")
        async def odd(self, req: Request) -> Response[Holder]:
            return req.response.json({})

        @get("/fine")
        async def fine(self, req: Request) -> Response[Address]:
            return req.response.json({"city": "x"})

    spec = build_app(Odd).json_spec
    assert spec is not None
    validate(spec)
    assert spec["paths"]["/o/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "object"
    }
    assert "Address" in spec["components"]["schemas"]


def test_converter_schema_unknown_converter_is_string() -> None:
    class Custom:
        name = "custom"

    assert converter_schema(Custom())["type"] == "string"


def test_open_api_off_means_no_document() -> None:
    assert build_app(*ALL, OPEN_API=False).json_spec is None


# ---------------------------------------------------------------------- serving


@pytest.fixture
def without_docs_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if ``patera[docs]`` were not installed: the page loads Swagger UI from the CDN."""
    monkeypatch.setattr(openapi_module._swagger_assets, "bundled_swagger_ui", lambda: None)


@pytest.mark.usefixtures("without_docs_extra")
async def test_specs_and_docs_served_in_debug() -> None:
    application = build_app(Customers)
    async with PateraTestClient(application) as client:
        res = await client.get("/openapi/specs.json")
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("application/json")
        assert res.json() == application.json_spec
        docs = await client.get("/openapi/docs")
        assert docs.status_code == 200
        assert docs.headers["content-type"] == "text/html; charset=utf-8"
        page = docs.text
        assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js" in page
        assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css" in page
        assert '"/openapi/specs.json"' in page
    assert application.url_for("OpenAPIController.specs") == "/openapi/specs.json"
    assert application.url_for("OpenAPIController.docs") == "/openapi/docs"


@pytest.mark.usefixtures("without_docs_extra")
async def test_custom_url_and_cdn() -> None:
    application = build_app(Customers, OPEN_API_URL="/api-docs", OPEN_API_SWAGGER_CDN="https://cdn.example/sw/")
    async with PateraTestClient(application) as client:
        assert (await client.get("/openapi/specs.json")).status_code == 404
        assert (await client.get("/api-docs/specs.json")).status_code == 200
        page = (await client.get("/api-docs/docs")).text
        assert '<script src="https://cdn.example/sw/swagger-ui-bundle.js"' in page
        assert '"/api-docs/specs.json"' in page


@pytest.mark.parametrize(
    "config",
    [{"DEBUG": False}, {"OPEN_API": False}, {"DEBUG": False, "OPEN_API": False}],
    ids=["debug-off", "openapi-off", "both-off"],
)
async def test_not_served_unless_debug_and_open_api(config: dict[str, Any]) -> None:
    application = build_app(Customers, **config)
    async with PateraTestClient(application) as client:
        assert (await client.get("/openapi/specs.json")).status_code == 404
        assert (await client.get("/openapi/docs")).status_code == 404
        assert (await client.get("/customers/")).status_code == 200
    assert "OpenAPIController.specs" not in application.endpoints


async def test_generated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = openapi_module.generate_spec

    def counting(app: Any) -> dict[str, Any]:
        calls.append(1)
        return real(app)

    monkeypatch.setattr(openapi_module, "generate_spec", counting)
    application = build_app(Customers)
    async with PateraTestClient(application) as client:
        first = (await client.get("/openapi/specs.json")).content
        second = (await client.get("/openapi/specs.json")).content
        await client.get("/openapi/docs")
    assert first == second
    assert calls == [1]
    assert application.json_spec is application.json_spec
    assert calls == [1]


class PrefixConfig(BaseConfig):
    APP_NAME: str = "prefixed"
    VERSION: str = "2.0"
    BASE_PATH: str = "."
    ACCESS_LOG: bool = False
    OPEN_API_DESCRIPTION: str = "Prefixed API"


@app_path("/api/v1")
@app(__name__, configs=PrefixConfig)
class PrefixedApp(Patera):
    pass


async def test_app_path_prefix_applied() -> None:
    application = PrefixedApp()
    application.register_controller(Customers)
    spec = application.json_spec
    assert spec is not None
    validate(spec)
    assert spec["info"] == {"title": "prefixed", "version": "2.0", "description": "Prefixed API"}
    assert "/api/v1/customers/{cid}" in spec["paths"]
    assert not any(not p.startswith("/api/v1/") for p in spec["paths"])
    async with PateraTestClient(application) as client:
        assert (await client.get("/api/v1/openapi/specs.json")).status_code == 200
        assert (await client.get("/openapi/specs.json")).status_code == 404
        page = (await client.get("/api/v1/openapi/docs")).text
        assert '"/api/v1/openapi/specs.json"' in page


async def test_docs_honour_asgi_root_path() -> None:
    application = build_app(Customers)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/openapi/docs",
        "raw_path": b"/openapi/docs",
        "root_path": "/mount",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    await application(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body").decode()
    assert '"/mount/openapi/specs.json"' in body


def test_swagger_page_escapes() -> None:
    page = swagger_page(
        title="<b>&",
        specs_url="/a</script><script>alert(1)//",
        css_url='https://x/"y/swagger-ui.css',
        js_url='https://x/"y/swagger-ui-bundle.js',
    )
    assert "<b>&" not in page and "&lt;b&gt;&amp;" in page
    assert "https://x/&quot;y/swagger-ui.css" in page
    assert "</script><script>alert" not in page


def test_same_status_different_bodies_become_any_of() -> None:
    @path("/m")
    class Merge(Controller):
        @get("/<int:n>")
        @open_api_docs(
            Descriptor(status=HttpStatus.OK, body=Problem),
            Descriptor(status=HttpStatus.CONFLICT, description="Taken", body=Problem),
            Descriptor(status=HttpStatus.CONFLICT, description="Locked", body=Address),
            Descriptor(status=HttpStatus.CONFLICT, body=Address),
        )
        async def one(self, req: Request, n: int) -> Response[Customer]:
            return req.response.json({})

    spec = build_app(Merge).json_spec
    assert spec is not None
    validate(spec)
    responses = spec["paths"]["/m/{n}"]["get"]["responses"]
    ok = responses["200"]["content"]["application/json"]["schema"]["anyOf"]
    assert [resolve(spec, s)["title"] for s in ok] == ["Customer", "Problem"]
    assert responses["200"]["description"] == "OK"
    conflict = responses["409"]
    assert conflict["description"] == "Taken\n\nLocked"
    assert [resolve(spec, s)["title"] for s in conflict["content"]["application/json"]["schema"]["anyOf"]] == [
        "Problem",
        "Address",
    ]
