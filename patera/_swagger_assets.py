"""Swagger UI's files from the ``docs`` extra, so ``/openapi/docs`` works offline (SPEC §12).

The extra installs ``swagger-ui-bundle-v2``, which ships the Swagger UI 5 distribution as
package data. Its files are looked up only when an app with the OpenAPI routes is built;
without it the docs page loads the CDN instead.
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

    The folder is found through the ``swagger-ui-bundle-v2`` distribution's own file list,
    not by importing ``swagger_ui_bundle``: the older ``swagger-ui-bundle`` package (Swagger
    UI 4) installs a module of that same name, and its files must not be served instead. A
    bundle installed somewhere that is not a plain folder (a zip) counts as missing too: the
    files are streamed from disk. Called once, when the docs controller is built.
    """
    from importlib import metadata

    try:
        dist = metadata.distribution("swagger-ui-bundle-v2")
    except metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.name == _REQUIRED[-1]:
            folder = Path(str(dist.locate_file(file))).parent
            if all((folder / name).is_file() for name in _REQUIRED):
                return folder
    return None
