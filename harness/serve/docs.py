"""/docs (Swagger UI) and /redoc that work offline, and the dashboard's chart library, all served by the API from
the npm packages set-up installs into .tools/node_modules (scripts/setup.sh: swagger-ui-dist, redoc, uplot), so no
page loads anything from a CDN. A missing asset answers 404 naming the set-up command."""
from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from harness.config import PROJECT_ROOT

#: Where set-up puts npm packages; HARNESS_NODE_MODULES overrides (a deployment that installs them elsewhere).
NODE_MODULES = Path(os.environ.get("HARNESS_NODE_MODULES") or PROJECT_ROOT / ".tools" / "node_modules")
#: The only files /vendor serves: name -> (package-relative path, media type).
ASSETS = {
    "swagger-ui-bundle.js": ("swagger-ui-dist/swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": ("swagger-ui-dist/swagger-ui.css", "text/css"),
    "favicon-32x32.png": ("swagger-ui-dist/favicon-32x32.png", "image/png"),
    "redoc.standalone.js": ("redoc/bundles/redoc.standalone.js", "text/javascript"),
    "uPlot.iife.min.js": ("uplot/dist/uPlot.iife.min.js", "text/javascript"),
    "uPlot.min.css": ("uplot/dist/uPlot.min.css", "text/css"),
}


def asset_path(name: str, root: Path | None = None) -> Path | None:
    """The file behind /vendor/<name>, or None when the name is not served or set-up has not installed it."""
    if name not in ASSETS:
        return None
    path = (root or NODE_MODULES) / ASSETS[name][0]
    return path if path.is_file() else None


def install(app: FastAPI) -> None:
    """Add /vendor/<asset>, /docs and /redoc (create the app with docs_url=None, redoc_url=None)."""
    title = app.title

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str):
        path = asset_path(name)
        if path is None:
            why = (f"{name} is not an asset the API serves" if name not in ASSETS else
                   f"{ASSETS[name][0]} is not installed in {NODE_MODULES} (run bash scripts/setup.sh)")
            return JSONResponse(status_code=404, content={"error": "asset_not_found", "detail": why})
        return FileResponse(path, media_type=ASSETS[name][1], headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{title} - Swagger UI",
                                   swagger_js_url="/vendor/swagger-ui-bundle.js",
                                   swagger_css_url="/vendor/swagger-ui.css",
                                   swagger_favicon_url="/vendor/favicon-32x32.png")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url, title=f"{title} - ReDoc",
                              redoc_js_url="/vendor/redoc.standalone.js",
                              redoc_favicon_url="/vendor/favicon-32x32.png", with_google_fonts=False)
