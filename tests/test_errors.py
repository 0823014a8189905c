"""Exception handlers, defaults and DEBUG behaviour (SPEC §8)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from patera import HttpStatus, MediaType, Request, Response, abort
from patera.controller import Controller, consumes, get, path, post
from patera.exceptions import (
    BaseHttpException,
    CustomException,
    ExceptionHandler,
    MethodNotAllowed,
    NotFound,
    handles,
)
from patera.testing import PateraTestClient

from .conftest import build_app


class Item(BaseModel):
    name: str
    qty: int


class EntityNotFound(CustomException):
    pass


class SpecialNotFound(EntityNotFound):
    pass


@path("/e")
class Failing(Controller):
    @get("/abort")
    async def do_abort(self, req: Request) -> Response:
        abort("User with id 5 not found", HttpStatus.NOT_FOUND, data={"id": 5})
        raise AssertionError("abort returned")

    @get("/entity")
    async def entity(self, req: Request) -> Response:
        raise EntityNotFound("no entity")

    @get("/special")
    async def special(self, req: Request) -> Response:
        raise SpecialNotFound("special")

    @get("/crash")
    async def crash(self, req: Request) -> Response:
        raise ZeroDivisionError("bad math")

    @get("/http")
    async def http(self, req: Request) -> Response:
        raise BaseHttpException("teapot", 418, "fail", ["x"])

    @post("/items")
    @consumes(MediaType.APPLICATION_JSON)
    async def items(self, req: Request, item: Item) -> Response:
        return req.response.json(item)


class Handlers(ExceptionHandler):
    @handles(EntityNotFound)
    async def entity(self, req: Request, exc: EntityNotFound) -> Response:
        return req.response.json({"handled": type(exc).__name__}).status(404)

    @handles(NotFound)
    def not_found(self, req: Request, exc: NotFound) -> Response:
        """Sync handlers work too; MethodNotAllowed is a NotFound."""
        return req.response.json({"missing": req.path, "405": isinstance(exc, MethodNotAllowed)}).status(
            exc.status_code
        )

    @handles(ValidationError)
    async def invalid(self, req: Request, exc: ValidationError) -> Response:
        return req.response.json({"fields": [e["loc"][0] for e in exc.errors()]}).status(400)


class CatchAll(ExceptionHandler):
    @handles(Exception)
    async def everything(self, req: Request, exc: Exception) -> Response:
        return req.response.json({"caught": type(exc).__name__}).status(503)


async def test_abort_without_a_handler_uses_its_own_status() -> None:
    async with PateraTestClient(build_app(Failing)) as client:
        r = await client.get("/e/abort")
        assert r.status_code == 404
        assert r.json() == {"status": "error", "message": "User with id 5 not found", "data": {"id": 5}}
        r = await client.get("/e/http")
        assert (r.status_code, r.json()) == (418, {"status": "fail", "message": "teapot", "data": ["x"]})


async def test_handlers_found_along_the_mro() -> None:
    async with PateraTestClient(build_app(Failing, handlers=(Handlers,))) as client:
        assert (await client.get("/e/entity")).json() == {"handled": "EntityNotFound"}
        assert (await client.get("/e/special")).json() == {"handled": "SpecialNotFound"}
        r = await client.get("/e/none")
        assert (r.status_code, r.json()) == (404, {"missing": "/e/none", "405": False})
        r = await client.post("/e/abort")
        assert (r.status_code, r.json()["405"]) == (405, True)
        r = await client.post("/e/items", json={"name": "x"})
        assert (r.status_code, r.json()) == (400, {"fields": ["qty"]})


async def test_catch_all_handler() -> None:
    async with PateraTestClient(build_app(Failing, handlers=(CatchAll,))) as client:
        r = await client.get("/e/crash")
        assert (r.status_code, r.json()) == (503, {"caught": "ZeroDivisionError"})


async def test_default_validation_error_is_422_without_input_echo() -> None:
    async with PateraTestClient(build_app(Failing)) as client:
        r = await client.post("/e/items", json={"name": "secret-value", "qty": "many"})
        assert r.status_code == 422
        body = r.json()
        assert body["status"] == "error" and body["message"] == "Validation failed"
        assert body["data"] == [{"loc": ["qty"], "msg": body["data"][0]["msg"], "type": "int_parsing"}]
        assert "secret-value" not in r.text and "many" not in r.text and "https://" not in r.text


async def test_unhandled_error_in_production_is_a_generic_500() -> None:
    async with PateraTestClient(build_app(Failing, DEBUG=False)) as client:
        r = await client.get("/e/crash")
        assert (r.status_code, r.json()) == (500, {"status": "error", "message": "Internal server error"})


async def test_unhandled_error_in_debug_is_reraised_by_the_test_client() -> None:
    async with PateraTestClient(build_app(Failing, DEBUG=True)) as client:
        with pytest.raises(ZeroDivisionError):
            await client.get("/e/crash")


async def test_later_registration_wins() -> None:
    class Second(ExceptionHandler):
        @handles(EntityNotFound)
        async def entity(self, req: Request, exc: EntityNotFound) -> Response:
            return req.response.json({"second": True}).status(409)

    async with PateraTestClient(build_app(Failing, handlers=(Handlers, Second))) as client:
        r = await client.get("/e/entity")
        assert (r.status_code, r.json()) == (409, {"second": True})


async def test_a_failing_handler_is_unhandled() -> None:
    class Broken(ExceptionHandler):
        @handles(EntityNotFound)
        async def entity(self, req: Request, exc: EntityNotFound) -> Response:
            raise KeyError("oops")

    async with PateraTestClient(build_app(Failing, DEBUG=False, handlers=(Broken,))) as client:
        assert (await client.get("/e/entity")).status_code == 500
