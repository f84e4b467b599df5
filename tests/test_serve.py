"""`linreg-tui serve`: its refusals, and the real app in a browser's tab, driven over the websocket.

The refusals run in-process (no server). The served tests start `linreg-tui serve` on a free loopback
port, read its token from the URL it prints, and talk to it as the browser's page does: `/ws` sends the
terminal's output as binary frames and takes `["stdin", keys]` as text frames. They wait on the frames
and on the processes, never on a clock; the timeouts below only turn a hang into a failure that shows
the server's log. The token, Origin and session checks are tests/test_serve_gate.py's.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import os
import select
import shlex
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from linreg_tui.commands import serve

aiohttp = pytest.importorskip("aiohttp", reason="the served tests need aiohttp (pip install -e '.[test]')")

REPO = Path(__file__).resolve().parent.parent
#: Wide enough that every panel, the log included, is on the screen (the grid from 150 columns).
WIDTH, HEIGHT = 160, 48
CTRL_R, CTRL_Q = "\x12", "\x11"
#: A safety net only: an app start (torch's import) takes seconds, many more on a loaded machine.
HANG = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- refusals: in-process, before anything is served --------------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[serve.ServeSettings]:
    """serve.serve replaced by a recorder: what main would have served, without serving it."""
    calls: list[serve.ServeSettings] = []
    monkeypatch.setattr(serve, "serve", lambda settings: calls.append(settings) or 0)
    monkeypatch.delenv("LINREG_TUI_TOKEN", raising=False)
    return calls


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--port", "0"], "--port: '0'"),
        (["--port", "70000"], "--port: '70000'"),
        (["--port", "http"], "--port: 'http'"),
        (["--public-url", "localhost:8000"], "--public-url: 'localhost:8000'"),
        (["--lr", "-1"], "learning rate: '-1'"),
        (["--lr", "0.1, -1"], "learning rate: '-1'"),  # a sweep's every point is checked
        (["--headless"], "--headless: a headless flag"),
        (["--bogus"], "--bogus: not a flag"),
        (["--host", "a..b"], "--host: 'a..b'"),  # refused before any look-up: an empty label
        (["--max-sessions", "0"], "--max-sessions: '0'"),
        (["--max-sessions", "two"], "--max-sessions: 'two'"),
        (["--idle-minutes", "0"], "--idle-minutes: '0'"),
        (["--idle-minutes", "-5"], "--idle-minutes: '-5'"),
        (["--idle-minutes", "inf"], "--idle-minutes: 'inf'"),
        (["--files", "no/such/dir"], "--files: 'no/such/dir' is not a directory"),
        (["--files", "pyproject.toml"], "--files: 'pyproject.toml' is not a directory"),
        (["--token", ""], "--token: the token given has 0 characters"),
        (["--token", "short"], "--token: the token given has 5 characters"),
        (["--token", "sixteen chars ok!"], "--token: the token given has other characters"),
        (["--no-token", "--allow-remote"], "--no-token: not with --allow-remote"),
        (["--no-token", "--token", "a" * 20], "--no-token: not with --token"),
    ],
)
def test_bad_flags_are_refused_naming_the_field(
    flags: list[str], named: str, served: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve.main(flags) == serve.EXIT_INVALID
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err and "allowed" in err
    assert not served


def test_a_token_from_the_environment_is_checked_and_named(
    served: list[object], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINREG_TUI_TOKEN", "too-short")
    assert serve.main([]) == serve.EXIT_INVALID
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "LINREG_TUI_TOKEN: the token given has 9 characters" in err and "allowed" in err
    assert "too-short" not in err  # a secret is not repeated into logs
    assert not served


def test_a_remote_host_is_refused_with_the_ssh_tunnel(served: list[object], capsys: pytest.CaptureFixture[str]) -> None:
    assert serve.main(["--host", "0.0.0.0"]) == serve.EXIT_INVALID
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "plain HTTP" in err and "`ssh -L 8000:localhost:8000 server`" in err and "--allow-remote" in err
    assert not served


def test_allow_remote_warns_and_serves(served: list[serve.ServeSettings], capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert serve.main(["--host", "0.0.0.0", "--port", str(port), "--allow-remote"]) == 0
    assert "warning: the server speaks plain HTTP" in capsys.readouterr().err
    assert served and (served[0].host, served[0].port, served[0].public_url) == ("0.0.0.0", port, None)
    assert served[0].token  # a remote server has its token too


def test_loopback_is_served_without_a_warning_with_a_random_token_and_the_defaults(
    served: list[serve.ServeSettings], capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve.main(["--host", "localhost", "--port", str(free_port())]) == 0
    assert serve.main(["--host", "localhost", "--port", str(free_port())]) == 0
    assert capsys.readouterr().err == ""
    first, second = served
    assert first.token and len(first.token) >= 40 and first.token != second.token  # token_urlsafe(32): 43
    assert (first.max_sessions, first.idle_minutes, first.files) == (4, 30.0, None)


def test_the_token_is_the_flags_else_the_environments(
    served: list[serve.ServeSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINREG_TUI_TOKEN", "from-the-environment")
    assert serve.main(["--port", str(free_port())]) == 0
    assert serve.main(["--port", str(free_port()), "--token", "given-by-the-flag"]) == 0
    assert [settings.token for settings in served] == ["from-the-environment", "given-by-the-flag"]


def test_no_token_warns_and_serves_without_one(
    served: list[serve.ServeSettings], capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve.main(["--port", str(free_port()), "--no-token"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "warning: --no-token" in err
    assert served[0].token is None


def test_the_apps_environment_has_the_limits_and_files_not_the_token(
    served: list[serve.ServeSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "configs").mkdir()
    monkeypatch.chdir(tmp_path)
    flags = ["--port", str(free_port()), "--max-sessions", "2", "--idle-minutes", "0.5"]
    assert serve.main([*flags, "--files", "configs"]) == 0
    assert serve.main(flags) == 0
    with_files, without = served
    assert (with_files.max_sessions, with_files.idle_minutes) == (2, 0.5)
    assert with_files.app_environment() == {
        "LINREG_TUI_TOKEN": None,
        "LINREG_TUI_IDLE_MINUTES": "0.5",
        "LINREG_TUI_FILES": str(tmp_path.resolve() / "configs"),  # absolute: the apps' directory may differ
    }
    assert without.app_environment()["LINREG_TUI_FILES"] is None  # None: removed from the server's


def test_a_port_in_use_is_one_line_and_exit_1(served: list[object], capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve.main(["--port", str(port)]) == serve.EXIT_FAILED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"port {port} on 127.0.0.1 is in use" in err
    assert not served


def test_each_tab_runs_this_python_with_the_apps_flags(
    served: list[serve.ServeSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "run.toml").write_text("lr = 0.1\n")
    monkeypatch.chdir(tmp_path)  # the tabs run in the server's directory: the relative path still holds
    app_flags = ["--preset", "book-3.2", "--config", "run.toml", "--w", "-3.4,2", "--epochs=5"]
    assert serve.main(["--port", str(free_port()), *app_flags, "--public-url", "https://x.org/lr/"]) == 0
    forwarded = ["--preset", "book-3.2", "--config", "run.toml", "--w=-3.4,2", "--epochs=5"]
    # exec: the shell becomes the app, the process the server waits for and, if it hangs, kills
    assert shlex.split(served[0].command) == ["exec", sys.executable, "-m", "linreg_tui", *forwarded]
    assert served[0].public_url == "https://x.org/lr"


def test_a_sweep_preset_is_served_as_the_app_takes_it(served: list[serve.ServeSettings]) -> None:
    assert serve.main(["--port", str(free_port()), "--preset", "data-size"]) == 0
    assert shlex.split(served[0].command)[-2:] == ["--preset", "data-size"]


# --- the served app ------------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[str]
    #: The address, http://127.0.0.1:PORT (no slash, no query).
    url: str
    log: Path
    #: The URL the server printed, token and all: what a person opens.
    start_url: str = ""
    token: str = ""
    output: list[str] = field(default_factory=list)  # stdout: textual-serve's log and a failed app's traceback

    def log_text(self) -> str:
        return ("".join(self.output) + self.log.read_text(errors="replace"))[-4000:]


@contextlib.contextmanager
def running_server(tmp_path: Path, *flags: str) -> Iterator[Server]:
    """`linreg-tui serve` on a free loopback port, once it says it serves; stopped afterwards."""
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "linreg_tui", "serve", "--port", str(port), *flags],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # the server's first line, or "" when it exited
        assert first.startswith(f"linreg-tui: serving the app on {server.url}/?token="), server.log_text()
        server.start_url = first.split()[5]
        server.token = parse_qs(urlsplit(server.start_url).query)["token"][0]
        # Read on, or a full pipe would stop the server; kept to explain a failure.
        threading.Thread(target=server.output.extend, args=(process.stdout,), daemon=True).start()
        yield server
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


CLOSED = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)


class Screen:
    """The text of a tab's terminal output so far, from the websocket's binary frames."""

    def __init__(self, websocket: aiohttp.ClientWebSocketResponse, server: Server) -> None:
        self.websocket = websocket
        self.server = server
        self.text = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    async def wait_for(self, wanted: str) -> None:
        try:
            async with asyncio.timeout(HANG):
                while wanted not in self.text:
                    message = await self.websocket.receive()
                    if message.type != aiohttp.WSMsgType.BINARY:
                        raise AssertionError(f"the tab closed ({message.type!r}) before showing {wanted!r}")
                    self.text += self._decoder.decode(message.data)
        except (AssertionError, TimeoutError) as failure:
            raise AssertionError(f"{wanted!r} not on the tab's screen: {failure!r}\n{self.server.log_text()}") from None

    async def press(self, keys: str) -> None:
        await self.websocket.send_str(json.dumps(["stdin", keys]))

    async def wait_closed(self) -> None:
        async with asyncio.timeout(HANG):
            async for _ in self.websocket:  # the app's remaining frames, until the server closes the tab
                pass


def descendants(pid: int) -> list[int]:
    """The processes below pid (the tab's shell and its app), from /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *descendants(int(child))]
    return found


def wait_until_gone(pids: list[int]) -> None:
    """Wait for each process to end: a pidfd becomes readable when its process exits."""
    for pid in pids:
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue  # already gone
        try:
            readable, _, _ = select.select([pidfd], [], [], HANG)
            assert readable, f"process {pid} still runs"
        finally:
            os.close(pidfd)


async def open_tab(session: aiohttp.ClientSession, server: Server) -> Screen:
    websocket = await session.ws_connect(f"{server.url}/ws?width={WIDTH}&height={HEIGHT}&token={server.token}")
    return Screen(websocket, server)


@pytest.mark.timeout(240)
async def test_a_tab_runs_the_app_trains_and_quits(tmp_path: Path) -> None:
    with running_server(tmp_path, "--epochs", "3") as server:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.start_url) as page:
                assert page.status == 200 and "linreg-tui" in await page.text()
            screen = await open_tab(session, server)
            await screen.wait_for("Loss")  # the app's panels: the app started inside the tab
            apps = descendants(server.process.pid)
            assert apps, "no app process below the server"
            await screen.press(CTRL_R)
            await screen.wait_for("epoch 3")  # the book's line in the log: it trained
            await screen.press(CTRL_Q)
            await screen.wait_closed()
            wait_until_gone(apps)  # quit in the browser ended that tab's app


@pytest.mark.timeout(240)
async def test_ctrl_c_stops_the_server_and_the_open_tabs_apps(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        async with aiohttp.ClientSession() as session:
            screen = await open_tab(session, server)
            await screen.wait_for("Loss")
            apps = descendants(server.process.pid)
            server.process.send_signal(signal.SIGINT)
            # The server closes the tab itself ("going away"), which ends its app now: aiohttp would
            # otherwise wait for the tab's handler, and the server took 25 s to stop.
            async with asyncio.timeout(HANG):
                while (message := await screen.websocket.receive()).type not in CLOSED:
                    pass
            assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, aiohttp.WSCloseCode.GOING_AWAY)
            returncode = await asyncio.to_thread(server.process.wait, HANG)
        assert returncode == serve.EXIT_SERVED, server.log_text()
        assert "linreg-tui: stopped serving" in server.log_text()
        wait_until_gone(apps)
