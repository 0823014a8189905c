"""Media types accepted by ``@consumes`` and ``@produces``."""

from __future__ import annotations

from enum import StrEnum

__all__ = ("MediaType",)


class MediaType(StrEnum):
    """The 20 media types of the original framework.

    ``NO_CONTENT`` is not a real media type: ``@produces(MediaType.NO_CONTENT)`` marks an
    endpoint whose response has no body (OpenAPI then documents no content).
    """

    APPLICATION_X_WWW_FORM_URLENCODED = "application/x-www-form-urlencoded"
    MULTIPART_FORM_DATA = "multipart/form-data"
    APPLICATION_JSON = "application/json"
    APPLICATION_PROBLEM_JSON = "application/problem+json"
    APPLICATION_XML = "application/xml"
    TEXT_XML = "text/xml"
    TEXT_PLAIN = "text/plain"
    TEXT_HTML = "text/html"
    APPLICATION_OCTET_STREAM = "application/octet-stream"
    IMAGE_PNG = "image/png"
    IMAGE_JPEG = "image/jpeg"
    IMAGE_GIF = "image/gif"
    APPLICATION_PDF = "application/pdf"
    APPLICATION_X_NDJSON = "application/x-ndjson"
    APPLICATION_CSV = "application/csv"
    TEXT_CSV = "text/csv"
    APPLICATION_YAML = "application/yaml"
    TEXT_YAML = "text/yaml"
    APPLICATION_GRAPHQL = "application/graphql"
    NO_CONTENT = "empty"
