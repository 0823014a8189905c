"""``Patera``: configuration, registration and the one-time build of the request stack."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import os
import re
import sys
import types
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from loguru import logger

from ._asgi import ASGIHandler
from ._cors import CREDENTIALS_WARNING, CorsOptions, CorsPolicy
from ._dispatch import Endpoint
from ._error_boundary import ErrorRenderer
from ._limits import BodyLimits
from ._log_buffer import LogBuffer, buffer_sink_spec
from ._router import Router
from ._sinks import SinkLease
from ._types import ASGIApp, Receive, Scope, Send
from .config import BaseConfig, load_config, sets_key
from .controller import Controller
from .exceptions import ExceptionHandler, MissingAppConfigurations, MissingImportModule, WrongModuleLoadType
from .extension import BaseExtension
from .logging import LoggerBase, default_logger_spec, remove_loguru_default_handler
from .middleware import MiddlewareBase
from .request import Request
from .response import Response

__all__ = ("Patera", "app", "app_path", "compose_rule", "on_shutdown", "on_startup")

C = TypeVar("C", bound=type)
F = TypeVar("F", bound=Callable[..., Any])
_LIFESPAN_ATTR = "__patera_lifespan__"
_VARIABLE_RE = re.compile(r"<([^<>]+)>")
_CORS_CREDENTIAL_KEYS = ("CORS_ALLOW_CREDENTIALS", "CORS_ALLOW_ORIGINS")


def app(import_name: str, configs: type[BaseConfig] | BaseConfig) -> Callable[[C], C]:
    """Attach the import name and configuration to a ``Patera`` subclass."""

    def mark(cls: C) -> C:
        cls.__patera_app__ = (import_name, configs)  # type: ignore[attr-defined]
        return cls

    return mark


def app_path(url_path: str | None = None) -> Callable[[C], C]:
    """An app-wide URL prefix for every controller except the static one."""

    def mark(cls: C) -> C:
        cls.__patera_app_path__ = url_path or ""  # type: ignore[attr-defined]
        return cls

    return mark


def on_startup(fn: F) -> F:
    setattr(fn, _LIFESPAN_ATTR, "startup")
    return fn


def on_shutdown(fn: F) -> F:
    setattr(fn, _LIFESPAN_ATTR, "shutdown")
    return fn


def compose_rule(*parts: str) -> str:
    """Join URL pieces, collapsing slashes; a trailing slash survives only from the last piece.

    Every non-empty piece must start with ``/`` (SPEC §2.1, as Werkzeug requires of a rule):
    a prefix does not make ``@get("noslash")`` valid. An empty piece adds nothing.

    Raises:
        ValueError: a piece does not start with a slash; the message names it.
    """
    for piece in parts:
        if piece and not piece.startswith("/"):
            full = "/".join(p for p in parts if p)
            raise ValueError(f"URL rule {piece!r} must start with a slash (in {full!r}).")
    joined = "/" + "/".join(p.strip("/") for p in parts if p and p.strip("/"))
    last = parts[-1] if parts else ""
    if last.endswith("/") and joined != "/":
        joined += "/"
    return re.sub(r"/{2,}", "/", joined)


def _root_path(import_name: str) -> str:
    module = sys.modules.get(import_name)
    filename: str | None = getattr(module, "__file__", None)
    if filename is None and import_name != "__main__":
        try:
            found = importlib.util.find_spec(import_name)
        except (ImportError, ValueError):
            found = None
        filename = found.origin if found is not None and found.origin not in (None, "built-in", "frozen") else None
    if filename is None or import_name == "__main__":
        return os.getcwd()
    return os.path.dirname(os.path.abspath(filename))


def load_import_string(spec: str) -> Any:
    """``package.module:Name`` → the object; ``MissingImportModule`` names what failed."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MissingImportModule(f"Could not import {spec!r}: {exc}") from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise MissingImportModule(f"Could not import {spec!r}: module {module_name!r} has no {attr!r}") from exc


class Patera:
    """The application. Subclass it, decorate with ``@app(__name__, configs=Config)``."""

    def __init__(self, cli_mode: bool = False) -> None:
        marker = getattr(type(self), "__patera_app__", None)
        if marker is None:
            raise MissingAppConfigurations(f"{type(self).__name__} needs the @app(__name__, configs=...) decorator")
        import_name, configs = marker
        self._config = load_config(configs)
        self._configs: dict[str, Any] = self._config.to_dict()
        self._configs["REQUEST_CLASS"] = self._configs.get("REQUEST_CLASS") or Request
        self._configs["RESPONSE_CLASS"] = self._configs.get("RESPONSE_CLASS") or Response
        self._import_name = import_name
        self._root_path = _root_path(import_name)
        self._app_path: str = getattr(type(self), "__patera_app_path__", "")
        self._cli_mode = cli_mode
        self.debug: bool = bool(self._configs["DEBUG"])
        self.request_class: type[Request] = self._configs["REQUEST_CLASS"]
        self.response_class: type[Response[Any]] = self._configs["RESPONSE_CLASS"]
        self.body_limits = BodyLimits.from_config(self._configs)

        self._router = Router(strict_slashes=bool(self._configs["STRICT_SLASHES"]))
        self._ws_router = Router(strict_slashes=bool(self._configs["STRICT_SLASHES"]))
        self._endpoints: dict[str, Endpoint] = {}
        self._controllers: list[Controller] = []
        self._aliases: dict[str, str] = {}
        self._errors = ErrorRenderer(self)
        self._middleware: list[type[MiddlewareBase]] = []
        self._asgi_middleware: list[tuple[Callable[..., ASGIApp], dict[str, Any]]] = []
        self._startup: list[Callable[[], Any]] = []
        self._shutdown: list[Callable[[], Any]] = []
        self._extensions: dict[str, Any] = {}
        self._models: dict[str, list[Any]] = {}
        self._cli_controllers: list[Any] = []
        self._template_paths: list[str] = []
        self._global_context_methods: list[Callable[..., Any]] = []
        self._loaded: set[int] = set()
        self._sink_lease = SinkLease()
        self._jinja_env: Any = None
        self._json_spec: dict[str, Any] | None = None
        self._built = False
        self._asgi_app: ASGIApp | None = None
        self._handler: ASGIHandler | None = None
        self._http: Callable[[Scope, Receive, Send], Awaitable[None]] | None = None  # set by build()
        self._builtins_registered = False
        self.global_cors: CorsPolicy | None = None

        self._log_buffer = LogBuffer(int(self._configs.get("IN_MEMORY_LOG_BUFFER_SIZE", 1000)))
        self._acquire_sinks()
        self._load_modules()

    def _acquire_sinks(self) -> None:
        """Take the default sink and the log buffer (SPEC §13.1); CLI mode logs the same way.

        Sinks are shared with every other app whose sink config is identical; the app's lease is
        released at lifespan shutdown, or when the app is garbage-collected without being started.
        """
        default_spec = default_logger_spec(self._configs)  # validates before anything changes
        remove_loguru_default_handler()
        self._sink_lease.add(default_spec)
        self._sink_lease.add(buffer_sink_spec(self._log_buffer))
        release = weakref.finalize(self, self._sink_lease.release_from_gc)
        release.atexit = False  # at interpreter exit loguru tears its handlers down itself

    # ------------------------------------------------------------------ loading (SPEC 1.6)

    def _load_modules(self) -> None:
        keys = ("MODELS", "EXTENSIONS", "CLI_CONTROLLERS") if self._cli_mode else (
            "LOGGERS", "MODELS", "EXTENSIONS", "CONTROLLERS", "CLI_CONTROLLERS", "EXCEPTION_HANDLERS", "MIDDLEWARE",
        )
        for key in keys:
            for spec in self._configs.get(key) or ():
                obj = load_import_string(spec)
                if id(obj) in self._loaded:
                    logger.warning("{} is listed more than once; loaded once", spec)
                    continue
                self._loaded.add(id(obj))
                self._load_object(spec, obj)

    def _load_object(self, spec: str, obj: Any) -> None:
        if isinstance(obj, type) and issubclass(obj, Controller):
            self.register_controller(obj)
        elif isinstance(obj, type) and issubclass(obj, ExceptionHandler):
            self.register_exception_handler(obj)
        elif isinstance(obj, BaseExtension):
            obj.init_app(self)
        elif isinstance(obj, type) and issubclass(obj, BaseExtension):
            obj().init_app(self)
        elif isinstance(obj, type) and issubclass(obj, MiddlewareBase):
            self._middleware.append(obj)
        elif isinstance(obj, type) and issubclass(obj, LoggerBase):
            self._sink_lease.add(obj(self).sink_spec())
        elif isinstance(obj, type) and hasattr(obj, "__db_name__"):
            self._models.setdefault(obj.__db_name__, []).append(obj)
        elif isinstance(obj, type) and _is_cli_controller(obj):
            self.register_cli_controller(obj)
        else:
            raise WrongModuleLoadType(f"Don't know how to load {spec!r} ({type(obj).__name__})")

    # ------------------------------------------------------------------ registration

    def register_controller(self, *controllers: type[Controller]) -> None:
        for ctrl_cls in controllers:
            if getattr(ctrl_cls, "__patera_development__", False) and not self.debug:
                continue
            url_path, open_api, tags = getattr(ctrl_cls, "__patera_path__", ("/", True, []))
            prefix = "" if getattr(ctrl_cls, "__patera_no_app_path__", False) else self._app_path
            ctrl = ctrl_cls(self, url_path, open_api, tags)
            self._controllers.append(ctrl)
            class_guards = list(getattr(ctrl_cls, "__patera_guards__", ()))
            for method_name, spec in ctrl.endpoints_map.items():
                if spec.development and not self.debug:
                    continue
                name = f"{ctrl_cls.__name__}.{method_name}"
                if name in self._endpoints:
                    raise ValueError(f"Duplicate endpoint name {name!r}")
                rule = compose_rule(prefix, url_path, spec.url_path or "")
                variables = [m.rsplit(":", 1)[-1].strip() for m in _VARIABLE_RE.findall(rule)]
                endpoint = Endpoint(
                    name=name, controller=ctrl, spec=spec, rule=rule, variables=variables,
                    limits=self.body_limits, guards=class_guards,
                )
                router = self._ws_router if spec.method == "SOCKET" else self._router
                router.add(rule, [spec.method or "GET"], endpoint, name)
                self._endpoints[name] = endpoint
        self._built = False

    def register_exception_handler(self, *handlers: type[ExceptionHandler]) -> None:
        for handler_cls in handlers:
            self._errors.register(handler_cls(self))

    def register_cli_controller(self, ctrl: Any) -> None:
        self._cli_controllers.append(ctrl(self) if isinstance(ctrl, type) else ctrl)

    def run_cli(self, argv: list[str] | None = None, *, lifespan: bool = False) -> int:
        """Run one registered CLI command from ``argv`` (default ``sys.argv[1:]``); see SPEC §15.2."""
        from .cli._controllers import run_cli

        return run_cli(self, argv, lifespan=lifespan)

    def register_alias(self, alias: str, endpoint: str) -> None:
        self._aliases[alias] = endpoint

    def add_extension(self, ext: Any) -> None:
        self._extensions[ext.configs_name] = ext

    def add_on_startup_method(self, fn: Callable[[], Any]) -> None:
        self._startup.append(fn)

    def add_on_shutdown_method(self, fn: Callable[[], Any]) -> None:
        self._shutdown.append(fn)

    def add_template_path(self, path: str) -> None:
        self._template_paths.append(path)
        self._jinja_env = None

    def add_global_context_method(self, fn: Callable[..., Any]) -> None:
        self._global_context_methods.append(fn)

    def add_middleware(self, middleware: type[MiddlewareBase]) -> None:
        """Append a ``MiddlewareBase`` subclass (innermost so far)."""
        self._middleware.append(middleware)
        self._built = False

    def add_asgi_middleware(self, factory: Callable[..., ASGIApp], **options: Any) -> None:
        """Wrap the whole ASGI app as ``factory(app, **options)``; last added is outermost."""
        if self._asgi_app is not None:
            raise RuntimeError("add_asgi_middleware() must be called before the app serves its first request")
        self._asgi_middleware.append((factory, options))

    # ------------------------------------------------------------------ build

    def build(self) -> None:
        """Freeze routes and compose the request stack; runs once, on the first ASGI call."""
        self._register_builtin_controllers()
        self._router.freeze()
        self._ws_router.freeze()
        self.global_cors = self._cors_policy(None)
        # SPEC §7: the untouched defaults ("*" + credentials) start silently; the credentials
        # warning is for configs (or @cors overlays) that set these keys themselves.
        configured = any(sets_key(self._config, key) for key in _CORS_CREDENTIAL_KEYS)
        for warning in self.global_cors.warnings if self.global_cors else ():
            if configured or warning != CREDENTIALS_WARNING:
                logger.warning(warning)
        global_warnings = set(self.global_cors.warnings) if self.global_cors else set()
        for endpoint in self._endpoints.values():
            endpoint.cors_policy = self._cors_policy(endpoint)
            # @cors overlays are checked like the globals (e.g. "*" with credentials).
            overlay = endpoint.spec.cors or {}
            overlay_sets = configured or any(overlay.get(k) is not None for k in ("allow_origins", "allow_credentials"))
            for warning in endpoint.cors_policy.warnings if endpoint.cors_policy else ():
                if warning not in global_warnings and (overlay_sets or warning != CREDENTIALS_WARNING):
                    logger.warning("{}: {}", endpoint.name, warning)
        if self._handler is None:
            self._handler = ASGIHandler(self)
            outer: ASGIApp = self._handler
            for factory, options in self._asgi_middleware:
                outer = factory(outer, **options)
            self._asgi_app = outer
        self._handler.compose()
        self._http = self._handler.http if self._asgi_app is self._handler else None
        self._built = True

    def _register_builtin_controllers(self) -> None:
        if self._builtins_registered:
            return
        self._builtins_registered = True
        for hook in _BUILTIN_HOOKS:
            hook(self)

    def _cors_policy(self, endpoint: Endpoint | None) -> CorsPolicy | None:
        options = CorsOptions.from_config(self._configs)
        if endpoint is not None:
            if endpoint.spec.no_cors:
                return None
            if endpoint.spec.cors is not None:
                options = options.overlay(**endpoint.spec.cors)
                return CorsPolicy(options)
            if self.global_cors is not None:
                return self.global_cors
        return CorsPolicy(options) if options.enabled else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        http = self._http
        if http is not None and self._built and scope["type"] == "http":
            # PERF: one coroutine less per request when no ASGI middleware wraps the handler.
            await http(scope, receive, send)
            return
        if not self._built:
            self.build()
        await self._asgi_app(scope, receive, send)  # type: ignore[misc]

    # ------------------------------------------------------------------ lifespan

    def _lifespan_methods(self, kind: str) -> list[Callable[[], Any]]:
        marked: dict[str, Callable[[], Any]] = {}
        for klass in reversed(type(self).__mro__):
            for name, member in vars(klass).items():
                if getattr(member, _LIFESPAN_ATTR, None) == kind:
                    marked[name] = getattr(self, name)
        ordered = [marked[name] for name in sorted(marked)]
        return ordered + (self._startup if kind == "startup" else self._shutdown)

    async def startup(self) -> None:
        """Run startup hooks in order; the first failure propagates."""
        self._sink_lease.acquire()  # again, if an earlier shutdown released the sinks
        for fn in self._lifespan_methods("startup"):
            result = fn()
            if inspect.isawaitable(result):
                await result

    async def shutdown(self) -> list[BaseException]:
        """Run every shutdown hook (failures logged, not fatal), then remove the app's sinks."""
        failures: list[BaseException] = []
        for fn in self._lifespan_methods("shutdown"):
            try:
                result = fn()
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # noqa: BLE001 - every hook gets its turn
                logger.exception("shutdown hook {} failed", getattr(fn, "__qualname__", fn))
                failures.append(exc)
        # A worker thread: flushing enqueued sinks may block.
        await asyncio.to_thread(self._sink_lease.release)
        return failures

    @property
    def _sink_ids(self) -> list[int]:
        """Handler ids of the sinks this app holds (some may be shared with other apps)."""
        return self._sink_lease.ids

    # ------------------------------------------------------------------ lookups

    def get_conf(self, name: str, default: Any = None) -> Any:
        return self._configs.get(name, default)

    def url_for(self, endpoint: str, **values: Any) -> str:
        name = self._aliases.get(endpoint, endpoint)
        if not self._built:
            self._register_builtin_controllers()
            name = self._aliases.get(endpoint, endpoint)
        is_socket = name in self._endpoints and self._endpoints[name].method == "SOCKET"
        router = self._ws_router if is_socket else self._router
        return router.build(name, values)

    @property
    def configs(self) -> dict[str, Any]:
        return self._configs

    @property
    def root_path(self) -> str:
        return self._root_path

    @property
    def static_files_path(self) -> str:
        return os.path.join(self._root_path, str(self._configs["STATIC_DIR"]).lstrip("/\\"))

    @property
    def templates_path(self) -> str:
        return os.path.join(self._root_path, str(self._configs["TEMPLATES_DIR"]).lstrip("/\\"))

    @property
    def version(self) -> str:
        return str(self._configs["VERSION"])

    @property
    def app_name(self) -> str:
        return str(self._configs["APP_NAME"])

    @property
    def app_path(self) -> str:
        return self._app_path

    @property
    def logger(self) -> Any:
        return logger

    @property
    def app(self) -> Patera:
        return self

    @property
    def router(self) -> Router:
        return self._router

    @property
    def websocket_router(self) -> Router:
        return self._ws_router

    @property
    def endpoints(self) -> dict[str, Endpoint]:
        return self._endpoints

    @property
    def controllers(self) -> list[Controller]:
        return list(self._controllers)

    @property
    def errors(self) -> ErrorRenderer:
        return self._errors

    @property
    def middleware(self) -> list[type[MiddlewareBase]]:
        return list(self._middleware)

    @property
    def json_spec(self) -> dict[str, Any] | None:
        if not self._built:
            self.build()
        return self._json_spec

    @json_spec.setter
    def json_spec(self, spec: dict[str, Any] | None) -> None:
        """Set by the OpenAPI build hook (``openapi.register_openapi``)."""
        self._json_spec = spec

    @property
    def extensions(self) -> dict[str, Any]:
        return self._extensions

    @property
    def models(self) -> dict[str, list[Any]]:
        return self._models

    @property
    def cli_controllers(self) -> list[Any]:
        return list(self._cli_controllers)

    @property
    def template_paths(self) -> list[str]:
        return [self.templates_path, *self._template_paths]

    @property
    def global_context_methods(self) -> list[Callable[..., Any]]:
        return list(self._global_context_methods)

    @property
    def jinja_environment(self) -> Any:
        if self._jinja_env is None:
            from ._templates import create_environment

            self._jinja_env = create_environment(self)
        return self._jinja_env

    @property
    def log_buffer(self) -> Any:
        return self._log_buffer


def _is_cli_controller(obj: type) -> bool:
    try:
        from .cli._controllers import CLIController
    except ImportError:
        return False
    return issubclass(obj, CLIController)


#: Hooks that register framework controllers (static files, OpenAPI) at build time.
_BUILTIN_HOOKS: list[Callable[[Patera], None]] = []

from .static import register_static  # noqa: E402

_BUILTIN_HOOKS.append(register_static)

from .openapi import register_openapi  # noqa: E402

_BUILTIN_HOOKS.append(register_openapi)


class _DecoratorModule(types.ModuleType):
    """This module, callable as the ``@app`` decorator.

    The README writes ``from patera import app`` and uses ``app`` as the decorator, while
    ``import patera.app`` / ``patera.app.Patera`` must reach this module: the package
    attribute is the module, and calling the module calls :func:`app`.
    """

    def __call__(self, import_name: str, configs: type[BaseConfig] | BaseConfig) -> Callable[[C], C]:
        return app(import_name, configs)


sys.modules[__name__].__class__ = _DecoratorModule
