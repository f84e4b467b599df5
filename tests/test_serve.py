"""`linreg-tui serve`: its refusals, and the real app in a browser's tab, driven over the websocket.

The refusals run in-process (no server). The served tests start `linreg-tui serve` on a free loopback
port and talk to it as the browser's page does: `/ws` sends the terminal's output as binary frames and
takes `["stdin", keys]` as text frames. They wait on the frames and on the processes, never on a clock;
the timeouts below only turn a hang into a failure that shows the server's log.
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

import pytest

from linreg_tui import serve

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
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int, str | None]]:
    """serve.serve replaced by a recorder: what main would have served, without serving it."""
    calls: list[tuple[str, str, int, str | None]] = []
    monkeypatch.setattr(serve, "serve", lambda *args: calls.append(args) or 0)
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
    ],
)
def test_bad_flags_are_refused_naming_the_field(
    flags: list[str], named: str, served: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve.main(flags) == serve.EXIT_INVALID
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err and "allowed" in err
    assert not served


def test_a_remote_host_is_refused_with_the_ssh_tunnel(served: list[object], capsys: pytest.CaptureFixture[str]) -> None:
    assert serve.main(["--host", "0.0.0.0"]) == serve.EXIT_INVALID
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no authentication" in err and "`ssh -L 8000:localhost:8000 server`" in err and "--allow-remote" in err
    assert not served


def test_allow_remote_warns_and_serves(served: list[object], capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert serve.main(["--host", "0.0.0.0", "--port", str(port), "--allow-remote"]) == 0
    assert "warning: textual-serve has no authentication" in capsys.readouterr().err
    assert served and served[0][1:] == ("0.0.0.0", port, None)


def test_loopback_is_served_without_a_warning(served: list[object], capsys: pytest.CaptureFixture[str]) -> None:
    assert serve.main(["--host", "localhost", "--port", str(free_port())]) == 0
    assert capsys.readouterr().err == ""
    assert served


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
    served: list[tuple[str, str, int, str | None]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "run.toml").write_text("lr = 0.1\n")
    monkeypatch.chdir(tmp_path)  # the tabs run in the server's directory: the relative path still holds
    app_flags = ["--preset", "book-3.2", "--config", "run.toml", "--w", "-3.4,2", "--epochs=5"]
    assert serve.main(["--port", str(free_port()), *app_flags, "--public-url", "https://x.org/lr/"]) == 0
    command, _host, _port, public_url = served[0]
    forwarded = ["--preset", "book-3.2", "--config", "run.toml", "--w=-3.4,2", "--epochs=5"]
    assert shlex.split(command) == [sys.executable, "-m", "linreg_tui", *forwarded]
    assert public_url == "https://x.org/lr"


def test_a_sweep_preset_is_served_as_the_app_takes_it(served: list[tuple[str, str, int, str | None]]) -> None:
    assert serve.main(["--port", str(free_port()), "--preset", "data-size"]) == 0
    assert shlex.split(served[0][0])[-2:] == ["--preset", "data-size"]


# --- the served app ------------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    log: Path
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
        assert first.startswith("linreg-tui: serving the app on http://127.0.0.1:"), server.log_text()
        # Read on, or a full pipe would stop the server; kept to explain a failure.
        threading.Thread(target=server.output.extend, args=(process.stdout,), daemon=True).start()
        yield server
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


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
    websocket = await session.ws_connect(f"{server.url}/ws?width={WIDTH}&height={HEIGHT}")
    return Screen(websocket, server)


@pytest.mark.timeout(240)
async def test_a_tab_runs_the_app_trains_and_quits(tmp_path: Path) -> None:
    with running_server(tmp_path, "--epochs", "3") as server:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.url + "/") as page:
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
            returncode = await asyncio.to_thread(server.process.wait, HANG)
        assert returncode == serve.EXIT_SERVED, server.log_text()
        assert "linreg-tui: stopped serving" in server.log_text()
        wait_until_gone(apps)
