"""Class-based controllers and their decorators."""

from __future__ import annotations

from .controller import Controller
from .decorators import (
    Descriptor,
    EndpointSpec,
    after_request,
    before_request,
    consumes,
    cors,
    delete,
    development,
    get,
    limits,
    no_cors,
    open_api_docs,
    patch,
    path,
    post,
    produces,
    put,
    socket,
)

__all__ = (
    "Controller",
    "Descriptor",
    "EndpointSpec",
    "after_request",
    "before_request",
    "consumes",
    "cors",
    "delete",
    "development",
    "get",
    "limits",
    "no_cors",
    "open_api_docs",
    "patch",
    "path",
    "post",
    "produces",
    "put",
    "socket",
)
