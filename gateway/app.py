"""The FastAPI application: routers, problem documents, health, OpenAPI and the web page.

/docs (Swagger UI) and /redoc (ReDoc) load their scripts and styles from this server, out of
the fastapi-offline package (under /static-offline-docs), never from a CDN: they work on a
network with no way out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from dialstream.bootstrap import Runtime
from gateway import health, io, problems
from gateway.routes import (
    agents,
    api_keys,
    attempts,
    campaign_groups,
    campaign_status,
    campaign_templates,
    channels,
    compliance,
    contact_lists,
    dashboard,
    data_mappings,
    dialing_profiles,
    events,
    exports,
    hierarchy,
    imports,
    list_automations,
    metrics,
    records,
    reports,
    session_profiles,
    settings,
    specification_files,
    suppression_lists,
    upload_rules,
)

STATIC = Path(__file__).parent / "static"
ROUTERS = (
    settings.router,
    dialing_profiles.router,
    session_profiles.router,
    campaign_templates.router,
    campaign_groups.router,
    campaign_status.router,
    contact_lists.router,
    specification_files.router,
    data_mappings.router,
    upload_rules.router,
    suppression_lists.router,
    suppression_lists.group_router,
    api_keys.router,
    hierarchy.router,
    imports.router,
    exports.router,
    compliance.router,
    records.router,
    attempts.router,
    agents.router,
    channels.router,
    list_automations.router,
    metrics.router,
    dashboard.router,
    reports.router,
    events.router,  # the event contract: no key, like /docs (gateway/routes/events.py)
)


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPIOffline(
        title="Dialstream",
        version="0.1.0",
        description="Event-sourced outbound campaign manager. Authenticate with "
        "`Authorization: Bearer <API key>`.",
        # Swagger UI would otherwise fetch a validity badge from validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.runtime = runtime
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)

    @app.get(
        "/healthz",
        tags=["health"],
        responses={503: {"description": "A dependency this process needs to serve is down"}},
    )
    def healthz() -> JSONResponse:
        """Readiness: 200 while this process can serve, 503 when a dependency it needs is down;
        each dependency's status and reason under ``checks`` (see :mod:`gateway.health`)."""
        readiness = health.probe(runtime)
        return JSONResponse(
            health.report(readiness, runtime.settings.bus), status_code=readiness.http_status
        )

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(io.components())
            schema["components"]["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API key"}
            }
            schema["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
