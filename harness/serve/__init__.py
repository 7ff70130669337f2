"""The API's routes beyond the P&L core in harness.serve.app, one router per concern (positions, history, activity,
leaderboard rank, offline docs). Each router is made by a function taking the app's ``Routes`` context: the
warehouse access and the proxy-aware wallet lookup that harness.serve.app.create_app owns, so every route answers an
EOA with its proxy wallet's rows exactly as /pnl does."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI


@dataclass(frozen=True)
class Routes:
    """What the routers share with create_app: ``wh`` (harness.serve.app._Warehouse) and ``answer_for(wallet, fetch)``
    -> (address whose rows answer, its rows, ProxyOut or None), which raises the 404 for an unknown wallet."""

    wh: object
    answer_for: Callable


def include_routes(app: FastAPI, routes: Routes) -> None:
    """Add every router to ``app`` (called once by harness.serve.app.create_app)."""
    from harness.serve import activity, docs, history, leaderboard, positions

    for module in (positions, history, activity, leaderboard):
        app.include_router(module.router(routes))
    docs.install(app)
