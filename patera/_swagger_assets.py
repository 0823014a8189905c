"""Swagger UI's files from the ``docs`` extra, so ``/openapi/docs`` works offline (SPEC §12).

The extra installs ``swagger-ui-bundle-v2``, which ships the Swagger UI 5 distribution as
package data under the import name ``swagger_ui_bundle``. It is imported only when an app
with the OpenAPI routes is built; without it the docs page loads the CDN instead.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ("ASSET_NAMES", "bundled_swagger_ui")

#: The only files the app serves from the bundle: an allow-list, so no request path ever
#: reaches the filesystem unchecked.
ASSET_NAMES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"})
_REQUIRED = ("swagger-ui.css", "swagger-ui-bundle.js")


def bundled_swagger_ui() -> Path | None:
    """The folder holding Swagger UI's files, or ``None`` when the ``docs`` extra is missing.

    A bundle installed somewhere that is not a plain folder (a zip) counts as missing too:
    the files are streamed from disk.
    """
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    folder = Path(str(swagger_ui_path))
    if not all((folder / name).is_file() for name in _REQUIRED):
        return None
    return folder
