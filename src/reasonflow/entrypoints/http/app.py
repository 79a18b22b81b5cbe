"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, MediaType, Response, get
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from reasonflow import __version__
from reasonflow.entrypoints.bootstrap import Services, build_services
from reasonflow.entrypoints.http.batch import BatchController
from reasonflow.entrypoints.http.controllers import AuthController, EmailController
from reasonflow.entrypoints.http.errors import exception_handlers
from reasonflow.entrypoints.http.request_log import RequestLog
from reasonflow.entrypoints.http.security import BearerTokenMiddleware
from reasonflow.entrypoints.http.web import WebController
from reasonflow.entrypoints.logs import configure_logging
from reasonflow.entrypoints.settings import Settings, load_settings

PUBLIC_PATHS = [
    "^/api/v1/auth/",
    "^/health$",
    "^/ready$",
    "^/metrics$",
    "^/schema",
    "^/$",
    "^/assets/",
]


@get("/health", tags=["ops"], media_type=MediaType.JSON)
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@get("/metrics", tags=["ops"], media_type=MediaType.TEXT)
async def metrics(state: State) -> Response[bytes]:
    """Prometheus exposition: jobs, emails by outcome, provider latency, work in flight."""
    services: Services = state.services
    if services.exposition is None:
        return Response(b"", media_type=MediaType.TEXT)
    return Response(services.exposition.exposition(), media_type=services.exposition.content_type)


@get("/ready", tags=["ops"], media_type=MediaType.JSON)
async def ready(state: State) -> Response[dict[str, str]]:
    """Readiness: the database answers and the runner takes work."""
    services: Services = state.services
    if await services.lifecycle.ready():
        return Response({"status": "ready"})
    return Response({"status": "unavailable"}, status_code=503)


def create_app(settings: Settings | None = None, services: Services | None = None) -> Litestar:
    """Build the app; with ``services`` given (tests), nothing is built from settings."""
    settings = settings or load_settings()
    configure_logging(settings.log_format, settings.log_level)
    wired = services or build_services(settings)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await wired.lifecycle.start()
        try:
            yield
        finally:
            await wired.lifecycle.stop()

    auth = DefineMiddleware(BearerTokenMiddleware, exclude=PUBLIC_PATHS)
    openapi = OpenAPIConfig(
        title="ReasonFlow Batch",
        version=__version__,
        path="/schema",
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
    )
    state: dict[str, Any] = {"services": wired, "settings": settings}
    app = Litestar(
        route_handlers=[
            AuthController,
            EmailController,
            BatchController,
            WebController,
            health,
            ready,
            metrics,
        ],
        middleware=[auth],
        exception_handlers=exception_handlers(settings.json_max_bytes),
        request_max_body_size=settings.json_max_bytes,
        openapi_config=openapi,
        lifespan=[lifespan],
        state=State(state),
        logging_config=None,
        debug=False,
    )
    # Around the whole app rather than in ``middleware``, which Litestar runs
    # per route: unmatched paths and errors before routing are logged too.
    app.asgi_handler = RequestLog(app.asgi_handler)
    return app
