"""One module per benchmarked framework, each serving the same endpoints.

Every module exposes ``NAME`` (column label), ``version()`` and
``build(extra_routes: int = 50) -> ASGI app``; ``build`` raises ``ImportError``
when the framework is not installed, and the driver then skips it.
"""
