"""Who gets an app from `linreg-tui serve`: the token, the websocket's Origin, and the session limit.

The server runs in this process (aiohttp's TestServer on 127.0.0.1, a free port) around LinregServer's
own aiohttp application, and each tab runs a stub in place of the app: a few lines of Python that
record their start (pid and environment) in a file, send one frame, and end when told to quit. So a
refusal is proved by the file staying empty, and a test takes tenths of a second. The waits are
bounded (HANG) and poll the server's session count or wait on the processes' ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from linreg_tui.ui.web.gate import origin_allowed
from linreg_tui.ui.web.settings import ServeSettings
from tests.test_serve import wait_until_gone

aiohttp = pytest.importorskip("aiohttp", reason="the served tests need aiohttp (pip install -e '.[test]')")
web = pytest.importorskip("aiohttp.web")
web_server = pytest.importorskip("linreg_tui.ui.web.server")

TOKEN = "a-test-token-0123456789"
#: A safety net only: the stub starts in a fraction of a second.
HANG = 30

#: The stub app: records its start, says it is ready in textual-serve's framing (the line that marks a
#: Textual app, then one data packet), and reads its stdin until the quit message (or EOF). With
#: "hangs" it ignores the quit, as a stuck app would.
STUB = """
import json, os, sys
names = ("LINREG_TUI_TOKEN", "LINREG_TUI_IDLE_MINUTES", "LINREG_TUI_FILES")
with open(sys.argv[1], "a") as record:
    record.write(json.dumps({"pid": os.getpid(), "env": {n: os.environ.get(n) for n in names}}) + "\\n")
ready = b"stub ready"
sys.stdout.buffer.write(b"__GANGLION__\\n" + b"D" + len(ready).to_bytes(4, "big") + ready)
sys.stdout.buffer.flush()
while chunk := sys.stdin.buffer.read1(65536):
    if b'"quit"' in chunk and sys.argv[2] == "quits":
        break
"""


@dataclass
class Served:
    server: web_server.LinregServer
    port: int
    record: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def starts(self) -> list[dict[str, object]]:
        """The stub apps started so far, in order."""
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    async def wait_sessions(self, live: int) -> None:
        async with asyncio.timeout(HANG):
            while self.server.gate.sessions.live != live:
                await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def gated_server(
    tmp_path: Path, stub: str = "quits", handler_cancellation: bool = False, **settings: object
) -> AsyncIterator[Served]:
    """LinregServer's application on 127.0.0.1 (a free port), each tab running the stub."""
    (tmp_path / "stub.py").write_text(STUB)
    record = tmp_path / "starts.jsonl"
    command = "exec " + shlex.join([sys.executable, str(tmp_path / "stub.py"), str(record), stub])
    server = web_server.LinregServer(
        ServeSettings(**{"command": command, "host": "127.0.0.1", "port": 0, "token": TOKEN, **settings})
    )
    # web.AppRunner as web.run_app makes it: a handler whose client left goes on (aiohttp's TestServer
    # cancels it: handler_cancellation).
    runner = web.AppRunner(await server._make_app(), handler_cancellation=handler_cancellation)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield Served(server, runner.addresses[0][1], record)
    finally:
        await runner.cleanup()  # ends the open tabs: each stub is told to quit


def client() -> aiohttp.ClientSession:
    # unsafe=True: aiohttp's jar keeps no cookie from an IP address otherwise; a browser does.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def open_tab(session: aiohttp.ClientSession, url: str, **headers: str) -> aiohttp.ClientWebSocketResponse:
    """A websocket that the server accepted, once its app said it is ready."""
    websocket = await session.ws_connect(url, headers=headers)
    async with asyncio.timeout(HANG):
        message = await websocket.receive()
    assert message.type == aiohttp.WSMsgType.BINARY and message.data == b"stub ready", message
    return websocket


async def refused_status(session: aiohttp.ClientSession, url: str, **headers: str) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await session.ws_connect(url, headers=headers)
    return refused.value.status


# --- the token ----------------------------------------------------------------------------------------


async def test_the_page_needs_the_token_and_turns_it_into_a_cookie(tmp_path: Path) -> None:
    async with gated_server(tmp_path) as served, client() as session:
        wrong = ("", "?token=", "?token=wrong-token-0123456789", f"?token={TOKEN}x", "?token=%C3%A9", "?token=%3Cb%3E")
        for query in wrong:
            async with session.get(served.url(f"/{query}")) as page:
                assert page.status == 403, query
                text = await page.text()
                assert "needs its token" in text and "<b>" not in text  # nothing of the request in the page
                assert "Set-Cookie" not in page.headers
        async with session.get(served.url(f"/?token={TOKEN}")) as page:
            assert page.status == 200 and "data-session-websocket-url" in await page.text()
            cookie = page.headers["Set-Cookie"]
            assert page.headers["Referrer-Policy"] == "no-referrer"
        assert f"={TOKEN};" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/;" in cookie
        async with session.get(served.url("/")) as page:  # the cookie alone, as on the page's Restart
            assert page.status == 200
        tab = await open_tab(session, served.url("/ws"))  # the page's websocket: no query, the cookie
        assert len(served.starts()) == 1
        await tab.close()


async def test_behind_https_the_cookie_is_secure(tmp_path: Path) -> None:
    async with (
        gated_server(tmp_path, public_url="https://example.org/linreg") as served,
        client() as session,
        session.get(served.url(f"/?token={TOKEN}")) as page,
    ):
        assert page.status == 200 and "Secure" in page.headers["Set-Cookie"]


async def test_a_websocket_without_the_token_starts_no_app(tmp_path: Path) -> None:
    async with gated_server(tmp_path) as served, client() as session:
        assert await refused_status(session, served.url("/ws")) == 403
        assert await refused_status(session, served.url("/ws?token=wrong-token-0123456789")) == 403
        session.cookie_jar.update_cookies({served.server.gate.cookie_name: "wrong-token-0123456789"})
        assert await refused_status(session, served.url("/ws")) == 403
        assert served.starts() == [] and served.server.gate.sessions.live == 0  # no process was started
        tab = await open_tab(session, served.url(f"/ws?token={TOKEN}"))  # a token in the query does
        assert len(served.starts()) == 1
        await tab.close()


async def test_downloads_need_the_token(tmp_path: Path) -> None:
    async with gated_server(tmp_path) as served, client() as session:
        async with session.get(served.url("/download/some-key")) as refused:
            assert refused.status == 403
        async with session.get(served.url(f"/download/some-key?token={TOKEN}")) as passed:
            assert passed.status == 404  # past the gate: textual-serve's own answer, no such download


async def test_without_a_token_the_server_asks_for_none(tmp_path: Path) -> None:
    async with gated_server(tmp_path, token=None) as served, client() as session:
        async with session.get(served.url("/")) as page:
            assert page.status == 200 and "Set-Cookie" not in page.headers
        tab = await open_tab(session, served.url("/ws"))
        await tab.close()


# --- the Origin ---------------------------------------------------------------------------------------


async def test_a_websocket_from_another_sites_page_is_refused(tmp_path: Path) -> None:
    async with gated_server(tmp_path) as served, client() as session:
        ws = served.url(f"/ws?token={TOKEN}")
        host = f"127.0.0.1:{served.port}"
        for origin in ("http://evil.example.com", f"http://evil.example.com:{served.port}", "null"):
            assert await refused_status(session, ws, Origin=origin) == 403, origin
        assert await refused_status(session, ws, Origin="http://127.0.0.1:1") == 403  # another local port
        assert served.starts() == []
        tab = await open_tab(session, ws, Origin=f"http://{host}")  # the page's own origin
        await tab.close()


@pytest.mark.parametrize(
    ("origin", "host", "public_url", "allowed"),
    [
        (None, "127.0.0.1:8000", None, True),  # not a browser: the token guards
        ("http://127.0.0.1:8000", "127.0.0.1:8000", None, True),
        ("http://LOCALHOST:9000", "localhost:9000", None, True),  # an SSH tunnel's local port
        ("http://localhost:9000", "localhost:8000", None, False),
        ("https://example.org", "example.org", None, True),  # default ports on both sides
        ("https://example.org", "127.0.0.1:8000", "https://example.org/linreg", True),  # a proxy rewrote Host
        ("https://example.org:8443", "127.0.0.1:8000", "https://example.org/linreg", False),
        ("http://[::1]:8000", "[::1]:8000", None, True),
        ("http://127.0.0.1:99999", "127.0.0.1:99999", None, False),  # no such port
        ("ftp://127.0.0.1:8000", "127.0.0.1:8000", None, False),
        ("null", "127.0.0.1:8000", None, False),
        ("http://127.0.0.1:8000", None, None, False),
    ],
)
def test_the_origin_must_name_the_requests_host(
    origin: str | None, host: str | None, public_url: str | None, allowed: bool
) -> None:
    assert origin_allowed(origin, host, public_url) is allowed


# --- the session limit --------------------------------------------------------------------------------


async def test_past_the_limit_tabs_are_refused_and_closing_one_frees_its_slot(tmp_path: Path) -> None:
    async with gated_server(tmp_path, max_sessions=2) as served, client() as session:
        ws = served.url(f"/ws?token={TOKEN}")
        tabs = [await open_tab(session, ws), await open_tab(session, ws)]
        for _ in range(2):  # past the limit: refused before a process starts
            assert await refused_status(session, ws) == 503
        async with session.get(served.url(f"/?token={TOKEN}")) as page:
            assert page.status == 503 and "The server is full (2 of 2 sessions)" in await page.text()
        assert len(served.starts()) == 2
        first = served.starts()[0]["pid"]

        await tabs[0].close()  # a closed tab: its app quits and its slot is free
        await asyncio.to_thread(wait_until_gone, [first])
        await served.wait_sessions(1)
        tabs[0] = await open_tab(session, ws)
        assert len(served.starts()) == 3
        async with session.get(served.url("/")) as page:
            assert page.status == 503

        for tab in tabs:
            await tab.close()
        await served.wait_sessions(0)
        await asyncio.to_thread(wait_until_gone, [start["pid"] for start in served.starts()])
        async with session.get(served.url("/")) as page:
            assert page.status == 200


@pytest.mark.parametrize("handler_cancellation", [False, True])
async def test_an_app_that_does_not_quit_is_killed_before_its_slot_is_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, handler_cancellation: bool
) -> None:
    monkeypatch.setattr(web_server, "QUIT_GRACE_SECONDS", 0.2)
    async with (
        gated_server(tmp_path, "hangs", handler_cancellation, max_sessions=1) as served,
        client() as session,
    ):
        tab = await open_tab(session, served.url(f"/ws?token={TOKEN}"))
        await tab.close()
        await served.wait_sessions(0)
        pid = served.starts()[0]["pid"]
        assert not Path(f"/proc/{pid}").exists()  # killed and reaped before the slot was freed


# --- the apps' environment ----------------------------------------------------------------------------


@pytest.mark.parametrize("files", [True, False])
async def test_the_apps_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: bool) -> None:
    monkeypatch.setenv("LINREG_TUI_TOKEN", TOKEN)  # the server's: not the apps'
    monkeypatch.setenv("LINREG_TUI_FILES", "/etc")  # left over in the server's environment
    settings: dict[str, object] = {"idle_minutes": 0.25, "files": tmp_path if files else None}
    async with gated_server(tmp_path, **settings) as served, client() as session:
        tab = await open_tab(session, served.url(f"/ws?token={TOKEN}"))
        await tab.close()
    expected = {"LINREG_TUI_TOKEN": None, "LINREG_TUI_IDLE_MINUTES": "0.25"}
    expected["LINREG_TUI_FILES"] = str(tmp_path) if files else None
    assert served.starts()[0]["env"] == expected
