"""HTTP status codes and methods as enums.

Members compare equal to plain ``int``/``str`` values, so they can be passed anywhere a
status code or method string is expected (``res.status(HttpStatus.CREATED)``).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = ("HttpMethod", "HttpStatus")


class HttpStatus(IntEnum):
    """Every standard status code 100-511.

    Names follow :class:`http.HTTPStatus`; the RFC 9110 spellings are aliases of the same
    members (``HttpStatus.CONTENT_TOO_LARGE is HttpStatus.REQUEST_ENTITY_TOO_LARGE``).
    """

    # 1xx informational
    CONTINUE = 100
    SWITCHING_PROTOCOLS = 101
    PROCESSING = 102
    EARLY_HINTS = 103

    # 2xx success
    OK = 200
    CREATED = 201
    ACCEPTED = 202
    NON_AUTHORITATIVE_INFORMATION = 203
    NO_CONTENT = 204
    RESET_CONTENT = 205
    PARTIAL_CONTENT = 206
    MULTI_STATUS = 207
    ALREADY_REPORTED = 208
    IM_USED = 226

    # 3xx redirection
    MULTIPLE_CHOICES = 300
    MOVED_PERMANENTLY = 301
    FOUND = 302
    SEE_OTHER = 303
    NOT_MODIFIED = 304
    USE_PROXY = 305
    TEMPORARY_REDIRECT = 307
    PERMANENT_REDIRECT = 308

    # 4xx client error
    BAD_REQUEST = 400
    UNAUTHORIZED = 401
    PAYMENT_REQUIRED = 402
    FORBIDDEN = 403
    NOT_FOUND = 404
    METHOD_NOT_ALLOWED = 405
    NOT_ACCEPTABLE = 406
    PROXY_AUTHENTICATION_REQUIRED = 407
    REQUEST_TIMEOUT = 408
    CONFLICT = 409
    GONE = 410
    LENGTH_REQUIRED = 411
    PRECONDITION_FAILED = 412
    REQUEST_ENTITY_TOO_LARGE = 413
    CONTENT_TOO_LARGE = 413  # RFC 9110 name
    REQUEST_URI_TOO_LONG = 414
    URI_TOO_LONG = 414  # RFC 9110 name
    UNSUPPORTED_MEDIA_TYPE = 415
    REQUESTED_RANGE_NOT_SATISFIABLE = 416
    RANGE_NOT_SATISFIABLE = 416  # RFC 9110 name
    EXPECTATION_FAILED = 417
    IM_A_TEAPOT = 418
    MISDIRECTED_REQUEST = 421
    UNPROCESSABLE_ENTITY = 422
    UNPROCESSABLE_CONTENT = 422  # RFC 9110 name
    LOCKED = 423
    FAILED_DEPENDENCY = 424
    TOO_EARLY = 425
    UPGRADE_REQUIRED = 426
    PRECONDITION_REQUIRED = 428
    TOO_MANY_REQUESTS = 429
    REQUEST_HEADER_FIELDS_TOO_LARGE = 431
    UNAVAILABLE_FOR_LEGAL_REASONS = 451

    # 5xx server error
    INTERNAL_SERVER_ERROR = 500
    NOT_IMPLEMENTED = 501
    BAD_GATEWAY = 502
    SERVICE_UNAVAILABLE = 503
    GATEWAY_TIMEOUT = 504
    HTTP_VERSION_NOT_SUPPORTED = 505
    VARIANT_ALSO_NEGOTIATES = 506
    INSUFFICIENT_STORAGE = 507
    LOOP_DETECTED = 508
    NOT_EXTENDED = 510
    NETWORK_AUTHENTICATION_REQUIRED = 511

    @property
    def phrase(self) -> str:
        """The reason phrase for the status line (``"Not Found"``)."""
        import http  # PERF: the stdlib enum is only built when a phrase is asked for

        return http.HTTPStatus(self.value).phrase


class HttpMethod(StrEnum):
    """HTTP methods a controller endpoint can handle; ``SOCKET`` marks websocket routes."""

    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"
    SOCKET = "SOCKET"
