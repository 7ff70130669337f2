"""Read-only P&L HTTP API and dashboard over the final views: the app made of the routers, and a background server
for tests and the dry run.

``create_app`` takes a client factory and a view suffix, so the dry run can point the same code at the ``_test``
views before a deploy. The routes live one concern per module (wallets, leaderboard, positions, history, activity,
health, docs); this module only wires them to one warehouse and maps the errors to status codes.
"""
from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from harness.serve import activity, docs, health, history, leaderboard, positions, wallets
from harness.serve.models import NotFound
from harness.serve.routes import Routes
from harness.serve.warehouse import ClientPool, Warehouse, WarehouseUnavailable

STATIC_DIR = Path(__file__).resolve().parent / "static"
_SUFFIX = re.compile(r"^[A-Za-z0-9_]{0,32}$")


def create_app(
    client_factory: Callable[[], object], view_suffix: str = "", *, pool_size: int = 1,
    watermark_ttl: float = 5.0, stale_after_seconds: int = 2 * 86400,
) -> FastAPI:
    """The API over ``<view><view_suffix>``; ``client_factory()`` is called lazily, once per pool slot."""
    if not _SUFFIX.match(view_suffix):
        raise ValueError(f"view_suffix {view_suffix!r}: letters, digits and _ only")
    wh = Warehouse(ClientPool(client_factory, pool_size), view_suffix, watermark_ttl)
    app = FastAPI(title="polymarket-pnl-harness P&L API", version="1", docs_url=None, redoc_url=None,
                  description="Read-only wallet P&L from the final views. Money is exact decimal USDC strings.")
    app.state.warehouse = wh

    @app.exception_handler(WarehouseUnavailable)
    def _unavailable(_request, exc: WarehouseUnavailable) -> JSONResponse:
        return JSONResponse(status_code=503, content={"error": "warehouse_unavailable", "detail": str(exc)})

    @app.exception_handler(NotFound)
    def _not_found(_request, exc: NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"error": "wallet_not_found", "detail": exc.detail})

    @app.exception_handler(RequestValidationError)
    def _invalid(_request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"error": "invalid_request",
                                                      "detail": jsonable_encoder(exc.errors())})

    routes = Routes(wh)
    for module in (wallets, leaderboard, positions, history, activity):
        app.include_router(module.router(routes))
    app.include_router(health.router(routes, stale_after_seconds))

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    docs.install(app)  # offline /docs, /redoc and the /vendor assets
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


@dataclass
class Served:
    """A running background server: ``url`` to call it, ``stop()`` to end it (also a context manager)."""

    url: str
    server: object = field(repr=False)
    thread: threading.Thread = field(repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __str__(self) -> str:
        return self.url

    def __enter__(self) -> Served:  # noqa: PYI034 - a dataclass, not subclassed
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(app_or_factory: FastAPI | Callable[[], object], view_suffix: str = "", *, host: str = "127.0.0.1",
          port: int = 0, timeout: float = 20.0) -> Served:
    """Start uvicorn in a daemon thread on ``host:port`` (0 = any free port); return once it accepts connections.

    Takes an app, or a client factory (then the app is ``create_app(factory, view_suffix)``).
    """
    import uvicorn

    app = app_or_factory if isinstance(app_or_factory, FastAPI) else create_app(app_or_factory, view_suffix)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"api-{bound}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"API server on {host}:{bound} did not start within {timeout:.0f} s")
        time.sleep(0.02)
    return Served(f"http://{'[' + host + ']' if ':' in host else host}:{bound}", server, thread)
