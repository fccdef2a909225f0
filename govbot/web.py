"""The aiohttp web app: health, metrics, and the endpoints front ends mount (Slack)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from govbot import metrics
from govbot.config import Settings
from govbot.services import Store
from govbot.services.health import check_database
from govbot.services.timers import pending_count

log = logging.getLogger(__name__)


class WebApp:
    """Serve govbot's HTTP endpoints on GOVBOT_WEB_HOST:GOVBOT_WEB_PORT (0: a free port)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.app = web.Application()
        self.app.router.add_get("/healthz", self.healthz)
        self.app.router.add_get("/metrics", self.metrics)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def healthz(self, request: web.Request) -> web.Response:
        """Answer 200 when the database answers, 503 otherwise."""
        try:
            await asyncio.to_thread(check_database, self.store)
        except Exception as exc:
            log.warning("health check failed: %s", exc)
            return web.json_response({"status": "unavailable", "database": "down"}, status=503)
        return web.json_response({"status": "ok", "database": self.store.dialect})

    async def metrics(self, request: web.Request) -> web.Response:
        """Serve the command counters, latency and pending timers in Prometheus text format."""
        gauges: dict[str, tuple[str, float]] = {}
        try:
            pending = await asyncio.to_thread(pending_count, self.store)
            gauges["govbot_pending_timers"] = ("Work waiting for its time to come.", pending)
        except Exception as exc:
            # A scrape should still show the counters while the database is away.
            log.warning("metrics: cannot count pending timers: %s", exc)
        body = metrics.REGISTRY.render(gauges)
        return web.Response(body=body.encode(), headers={"Content-Type": metrics.CONTENT_TYPE})

    async def start(self) -> None:
        """Start listening."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.web_host, self.settings.web_port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.settings.web_port
        log.info("web app on %s:%s", self.settings.web_host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
