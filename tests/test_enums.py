"""The public enums: values, aliases and the exact member sets the README promises."""

from __future__ import annotations

import http

import pytest

from patera.http_statuses import HttpMethod, HttpStatus
from patera.media_types import MediaType


def test_http_status_covers_every_stdlib_code() -> None:
    for status in http.HTTPStatus:
        assert HttpStatus[status.name] == status.value


def test_http_status_range() -> None:
    values = {int(s) for s in HttpStatus}
    assert min(values) == 100
    assert max(values) == 511


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OK", 200),
        ("CREATED", 201),
        ("NO_CONTENT", 204),
        ("SEE_OTHER", 303),
        ("BAD_REQUEST", 400),
        ("NOT_FOUND", 404),
        ("UNPROCESSABLE_ENTITY", 422),
        ("INTERNAL_SERVER_ERROR", 500),
    ],
    ids=["ok", "created", "no-content", "see-other", "bad-request", "not-found", "unprocessable", "ise"],
)
def test_http_status_is_int(name: str, value: int) -> None:
    assert HttpStatus[name] == value
    assert isinstance(HttpStatus[name], int)


def test_rfc9110_aliases_are_same_member() -> None:
    assert HttpStatus.CONTENT_TOO_LARGE is HttpStatus.REQUEST_ENTITY_TOO_LARGE
    assert HttpStatus.UNPROCESSABLE_CONTENT is HttpStatus.UNPROCESSABLE_ENTITY
    assert HttpStatus(422) is HttpStatus.UNPROCESSABLE_ENTITY


def test_http_status_phrase() -> None:
    assert HttpStatus.NOT_FOUND.phrase == "Not Found"


def test_http_method_members() -> None:
    assert [m.value for m in HttpMethod] == ["GET", "POST", "PUT", "PATCH", "DELETE", "SOCKET"]
    assert HttpMethod.GET == "GET"
    assert f"{HttpMethod.POST}" == "POST"


def test_media_type_exact_members() -> None:
    assert len(MediaType) == 20
    assert MediaType.APPLICATION_JSON == "application/json"
    assert MediaType.NO_CONTENT == "empty"
    assert MediaType.APPLICATION_X_WWW_FORM_URLENCODED == "application/x-www-form-urlencoded"
    assert next(iter(MediaType)) is MediaType.APPLICATION_X_WWW_FORM_URLENCODED
    assert list(MediaType)[-1] is MediaType.NO_CONTENT
