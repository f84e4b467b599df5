"""The server of `linreg-tui serve`: textual-serve's Server behind the gate's checks (gate.py).

textual-serve starts an app for every websocket and serves its page and downloads to anyone; here the
page, the websocket and the downloads first ask the Gate (the token, the Origin, the number of tabs),
and a refused websocket is answered before it is accepted, so no process starts. The page comes from
our own template (templates/, textual-serve's with small changes); its static files stay textual-serve's,
public (they are the same for everyone). Under linreg_tui.ui because textual-serve brings rich, which
the core must not import (tests/test_architecture.py).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import aiohttp_jinja2
from aiohttp import WSCloseCode, web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager
from textual_serve.server import Server, to_int

from linreg_tui.ui.web.gate import Gate, Refusal
from linreg_tui.ui.web.settings import ServeSettings

log = logging.getLogger("textual-serve")

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: How long an app has to end after it is told to quit (a run stops at its next chunk of steps, well
#: within this) before it is killed: a hung app must not hold its tab's slot forever.
QUIT_GRACE_SECONDS = 10.0


class LinregAppService(AppService):
    """One tab's app process, started with the server's environment changed as `environment` says
    (None: the variable removed), and surely ended by stop()."""

    def __init__(
        self,
        command: str,
        *,
        environment: Mapping[str, str | None],
        write_bytes: Callable[[bytes], Awaitable[None]],
        write_str: Callable[[str], Awaitable[None]],
        close: Callable[[], Awaitable[None]],
        download_manager: DownloadManager,
        debug: bool = False,
    ) -> None:
        super().__init__(
            command,
            write_bytes=write_bytes,
            write_str=write_str,
            close=close,
            download_manager=download_manager,
            debug=debug,
        )
        self.environment_changes = dict(environment)

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width=width, height=height)
        for name, value in self.environment_changes.items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value
        return environment

    async def stop(self) -> None:
        """Tell the app to quit and wait until its process has ended, killing it after QUIT_GRACE_SECONDS
        (textual-serve's stop waits for the app's output to end, however long that takes; and its reader
        swallows a cancellation, so a timeout around it would not end the wait)."""
        process = self._process
        stopping = asyncio.create_task(super().stop())  # says quit, then reads the app's output to its end
        if process is not None:
            try:
                await asyncio.wait_for(process.wait(), QUIT_GRACE_SECONDS)
            except TimeoutError:
                log.warning("an app did not quit within %g s: killed", QUIT_GRACE_SECONDS)
                process.kill()
                await process.wait()
        await stopping  # the process ended, so its output did


class LinregServer(Server):
    """textual-serve's Server with the gate's checks, our page, and the apps' environment. It says it
    serves only once the port listens (textual-serve's banner comes from on_startup, before the bind: a
    client that trusted it could find the port closed)."""

    def __init__(self, settings: ServeSettings) -> None:
        super().__init__(
            settings.command,
            host=settings.host,
            port=settings.port,
            title="linreg-tui",
            public_url=settings.public_url,
            templates_path=TEMPLATES,
        )
        self.settings = settings
        self.gate = Gate(settings.token, settings.max_sessions, settings.public_url)
        #: The tabs' websockets now open: closed when the server stops, which ends their apps.
        self.open_websockets: set[web.WebSocketResponse] = set()

    @property
    def start_url(self) -> str:
        """The URL to open: the page, with the token when there is one."""
        return f"{self.public_url}/" + (f"?token={self.settings.token}" if self.settings.token else "")

    async def on_startup(self, app: web.Application) -> None:
        pass

    async def on_shutdown(self, app: web.Application) -> None:
        """Ctrl+C or SIGTERM: close every tab's websocket, so that each tab's handler stops its app now.
        (aiohttp waits for open handlers before it stops, and a tab's waits for its browser: the server
        took 25 s to stop with one tab open, a heartbeat's timeout and then the app's grace.)"""
        for websocket in list(self.open_websockets):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"the server stopped")

    def listening(self, *aiohttp_banner: object) -> None:
        limit = self.settings.max_sessions
        print(
            f"linreg-tui: serving the app on {self.start_url} (a new app per browser tab, at most {limit}); "
            "Ctrl+C stops"
        )
        sys.stdout.flush()

    def serve(self, debug: bool = False) -> None:
        # textual-serve's serve(), with run_app's `print`, which aiohttp calls once the site listens.
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_exit)
        web.run_app(
            self._make_app(), host=self.host, port=self.port, handle_signals=False, loop=loop, print=self.listening
        )

    def refused_page(self, request: web.Request, refusal: Refusal) -> web.Response:
        response = aiohttp_jinja2.render_template(
            "refused.html", request, {"reason": refusal.reason}, status=refusal.status
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        refusal = self.gate.page_refusal(request.query, request.cookies)
        if refusal is not None:
            response = self.refused_page(request, refusal)
        else:
            response = await super().handle_index(request)  # the template's context, rendered by its decorator
        if self.gate.token_in_query(request.query):  # also on the "full" page: a reload later needs it
            response.set_cookie(
                self.gate.cookie_name,
                self.gate.cookie_value(),
                path="/",
                httponly=True,
                samesite="Strict",
                secure=self.public_url.startswith("https:"),
            )
        # The token is in this page's URL: no Referer carries it to the fonts' server.
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        if not self.gate.authorized(request.query, request.cookies):
            return web.Response(status=403, text="a token is needed")
        return await super().handle_download(request)

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        """textual-serve's handler, behind the gate: a refused request is answered in plain HTTP before the
        websocket is accepted, so no process starts; an accepted one holds a session until its app ended."""
        refusal = self.gate.websocket_refusal(request.query, request.cookies, request.headers)
        if refusal is not None:
            return web.Response(status=refusal.status, text=refusal.reason)
        with self.gate.sessions.claimed():  # no await since the check: no other tab took the last one
            return await self.run_tab(request)

    async def run_tab(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handle_websocket, with our app service, stopped once."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app_service: LinregAppService | None = None
        try:
            await websocket.prepare(request)
            self.open_websockets.add(websocket)
            app_service = LinregAppService(
                self.command,
                environment=self.settings.app_environment(),
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await app_service.start(width, height)
            await self._process_messages(websocket, app_service)
        except asyncio.CancelledError:  # the server stops: textual-serve closes the tab, as here
            await websocket.close()
        except Exception as error:
            log.exception(error)
        finally:
            self.open_websockets.discard(websocket)
            if app_service is not None:
                await stop_even_if_cancelled(app_service)
        return websocket


async def stop_even_if_cancelled(app_service: LinregAppService) -> None:
    """Stop the app and wait for its end even when this handler is cancelled meanwhile (a closed
    connection cancels it where aiohttp's handler_cancellation is on): its session is free only then."""
    stopping = asyncio.ensure_future(app_service.stop())
    try:
        await asyncio.shield(stopping)
    except asyncio.CancelledError:
        await stopping  # bounded: stop() kills an app that does not quit
        raise
