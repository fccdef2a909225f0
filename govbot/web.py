"""The aiohttp web app: health, readiness, metrics, and the endpoints front ends mount (Slack)."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aiohttp import web

from govbot import __version__, metrics
from govbot.config import Settings
from govbot.services import Store
from govbot.services.health import check_database
from govbot.services.timers import pending_count

log = logging.getLogger(__name__)


class Watched(Protocol):
    """What the web app asks of a front end: is it connected, and its gauges."""

    def ready(self) -> bool: ...

    def gauges(self) -> dict[str, tuple[str, float]]: ...


class WebApp:
    """Serve govbot's HTTP endpoints on GOVBOT_WEB_HOST:GOVBOT_WEB_PORT (0: a free port)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        # Filled by bootstrap once the front ends exist (Slack mounts routes here first).
        self.front_ends: dict[str, Watched] = {}
        self.app = web.Application()
        self.app.router.add_get("/healthz", self.healthz)
        self.app.router.add_get("/readyz", self.readyz)
        self.app.router.add_get("/metrics", self.metrics)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def _database_answers(self) -> bool:
        try:
            await asyncio.to_thread(check_database, self.store)
        except Exception as exc:
            log.warning("database check failed: %s", exc)
            return False
        return True

    async def healthz(self, request: web.Request) -> web.Response:
        """Answer 200 when the database answers, 503 otherwise (liveness)."""
        if not await self._database_answers():
            return web.json_response({"status": "unavailable", "database": "down"}, status=503)
        return web.json_response({"status": "ok", "database": self.store.dialect})

    async def readyz(self, request: web.Request) -> web.Response:
        """Answer 200 only while every front end is connected and the database answers."""
        database = await self._database_answers()
        platforms = {
            name: _is_ready(name, front_end) for name, front_end in self.front_ends.items()
        }
        ready = database and all(platforms.values())
        body = {
            "status": "ready" if ready else "not ready",
            "database": self.store.dialect if database else "down",
            "platforms": {name: "up" if up else "down" for name, up in platforms.items()},
        }
        return web.json_response(body, status=200 if ready else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        """Serve counters, latency, pending timers, uptime and front-end gauges (Prometheus)."""
        gauges: dict[str, tuple[str, float]] = {
            "govbot_uptime_seconds": ("Seconds since govbot started.", metrics.uptime_seconds())
        }
        try:
            pending = await asyncio.to_thread(pending_count, self.store)
            gauges["govbot_pending_timers"] = ("Work waiting for its time to come.", pending)
        except Exception as exc:
            # A scrape should still show the counters while the database is away.
            log.warning("metrics: cannot count pending timers: %s", exc)
        for name, front_end in self.front_ends.items():
            try:
                gauges.update(front_end.gauges())
            except Exception as exc:
                log.warning("metrics: the %s front end has no gauges: %s", name, exc)
        body = metrics.build_info(__version__) + metrics.REGISTRY.render(gauges)
        return web.Response(body=body.encode(), headers={"Content-Type": metrics.CONTENT_TYPE})

    async def start(self) -> None:
        """Start listening."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.web_host, self.settings.web_port)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.settings.web_port
        log.info("web app on %s:%s", self.settings.web_host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()


def _is_ready(name: str, front_end: Watched) -> bool:
    try:
        return front_end.ready()
    except Exception as exc:
        # A front end that cannot say is not known to be connected.
        log.warning("readiness: the %s front end cannot say: %s", name, exc)
        return False
