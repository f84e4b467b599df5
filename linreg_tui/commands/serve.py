"""`linreg-tui serve`: the app in a browser, one app process per tab, with textual-serve.

The flags are checked here, before anything is served: a bad run flag or port is refused once, in one
line, rather than in every tab. textual-serve (aiohttp) is imported only when serving, so `--help` and
the refusals answer at once. Whoever opens a tab runs an app on this machine, so the server asks for a
random token (in the URL it prints, as Jupyter does; ui/web/gate.py checks it), serves only loopback unless
--allow-remote says otherwise, and starts at most --max-sessions apps. The server itself is
linreg_tui.ui.web.server.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import math
import os
import shlex
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

from linreg_tui.run.config import ConfigError
from linreg_tui.run.config_file import ConfigFileError
from linreg_tui.ui.web.gate import TOKEN_ALLOWED, TOKEN_VARIABLE, ServeError, choose_token
from linreg_tui.ui.web.settings import DEFAULT_IDLE_MINUTES, DEFAULT_MAX_SESSIONS, ServeSettings

EXIT_SERVED = 0
EXIT_FAILED = 1
EXIT_INVALID = 2

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def remote_risk(where: str, port: int) -> str:
    """Why a non-loopback address is refused (or, with --allow-remote, warned about), and the safe way."""
    return (
        f"the server speaks plain HTTP: anyone on the network who sees its token (it travels unencrypted) "
        f"runs the app on this machine through {where}; from your computer use an SSH tunnel instead: "
        f"`ssh -L {port}:localhost:{port} server`, then "
        f"`linreg-tui serve{'' if port == DEFAULT_PORT else f' --port {port}'}` on the server and open "
        f"the URL it prints"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linreg-tui serve",
        allow_abbrev=False,  # `--p` must not be taken for --port: the flags it does not know are the app's
        description="Serve the app to a web browser (textual-serve): each browser tab runs its own app. "
        "Open the URL the server prints: it carries the server's token (?token=...), without which a page "
        "gets no app. Ctrl+C stops the server and its apps. Any other flags are the app's (see "
        "`linreg-tui --help`: --preset, --config, --w, --lr, ...): they prefill every tab's form, as they do "
        "for `linreg-tui`.",
        epilog="Over SSH: `ssh -L 8000:localhost:8000 server`, then `linreg-tui serve` on the server, "
        "and open the URL it prints on your computer.",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"the address to listen on (default {DEFAULT_HOST}, this machine only)"
    )
    parser.add_argument("--port", default=str(DEFAULT_PORT), help=f"the port, 1 to 65535 (default {DEFAULT_PORT})")
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use, when a proxy or tunnel's differs from http://HOST:PORT "
        "(e.g. https://example.org/linreg)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="serve on an address other machines can reach (a classroom network); the token travels unencrypted there",
    )
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help=f"the token browsers must bring (default: ${TOKEN_VARIABLE} if set, else a new random one each "
        f"time; allowed: {TOKEN_ALLOWED}); other users of this machine can read a flag, not the variable",
    )
    parser.add_argument(
        "--no-token",
        action="store_true",
        help="ask for no token, on loopback only (not with --allow-remote): any program on this machine, "
        "and a web page through DNS rebinding, can then run the app",
    )
    parser.add_argument(
        "--max-sessions",
        metavar="N",
        default=str(DEFAULT_MAX_SESSIONS),
        help=f"the most tabs with an app at once; past them the page says the server is full "
        f"(default {DEFAULT_MAX_SESSIONS}; each tab's app takes about 260 MiB with a CPU build of torch)",
    )
    parser.add_argument(
        "--idle-minutes",
        metavar="M",
        default=f"{DEFAULT_IDLE_MINUTES:g}",
        help=f"end a tab's app after M minutes without a key or the mouse while no run trains "
        f"(default {DEFAULT_IDLE_MINUTES:g})",
    )
    parser.add_argument(
        "--files",
        metavar="DIR",
        help="the directory the browser's ctrl+f may open TOML configs from (default: none: opening is off)",
    )
    return parser


def parse_port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ServeError(f"--port: {text!r} is not a port (allowed: a whole number from 1 to 65535)")
    return int(text)


def parse_max_sessions(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ServeError(f"--max-sessions: {text!r} is not a number of tabs (allowed: a whole number from 1 up)")
    return int(text)


def parse_idle_minutes(text: str) -> float:
    try:
        minutes = float(text)
    except ValueError:
        minutes = math.nan
    if not (math.isfinite(minutes) and minutes > 0):
        raise ServeError(f"--idle-minutes: {text!r} is not a time (allowed: a number of minutes above 0, e.g. 30)")
    return minutes


def check_files(text: str) -> Path:
    """--files as the apps get it: absolute and resolved, so that their working directory does not matter."""
    path = Path(text).expanduser()
    if not path.is_dir():
        raise ServeError(f"--files: {text!r} is not a directory (allowed: an existing directory)")
    return path.resolve()


def is_loopback(host: str) -> bool:
    """Whether every address `host` names is this machine's loopback (a name is looked up locally)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ServeError(f"--host: {host!r} cannot be resolved (allowed: an IP address or a host name)") from None
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def check_public_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ServeError(f"--public-url: {url!r} is not a URL (allowed: http://… or https://… with a host)")
    return url.rstrip("/")


def app_command(app_argv: list[str]) -> str:
    """The shell command each tab runs: this Python and this package (no `linreg-tui` on PATH needed)
    with the app's flags as given. textual-serve runs it with a shell, in the server's working directory
    (so a relative --config path still names the same file), hence the quoting."""
    # `exec`: the shell becomes the app, so the process the server waits for (and kills, should it hang on
    # quit) is the app itself rather than a shell above it.
    return "exec " + shlex.join([sys.executable, "-m", "linreg_tui", *app_argv])


def check_app_flags(app_argv: list[str]) -> None:
    """Refuse, once and before serving, what every tab's app would refuse (the same reading as
    cli._main's: the preset, the config file over it, the flags over both)."""
    from linreg_tui.commands.common import run_texts
    from linreg_tui.commands.train import build_parser as app_parser
    from linreg_tui.run.sweep import expand

    args, unknown = app_parser().parse_known_args(app_argv)
    if unknown:
        raise ServeError(
            f"{unknown[0]}: not a flag of serve or of the app "
            "(allowed: those of `linreg-tui serve --help` and `linreg-tui --help`)"
        )
    headless_only = {
        "--headless": args.headless,
        "--json": args.json,
        "--metrics": args.metrics,
        "--save-config": args.save_config,
        "--force": args.force,
        "--lr-changes": args.lr_changes is not None,
    }
    if given := [flag for flag, value in headless_only.items() if value]:
        raise ServeError(f"{given[0]}: a headless flag, not for the browser (allowed: the flags that fill the form)")
    expand(run_texts(args))  # every point of a sweep, which the app's form takes


def check_port_free(host: str, port: int) -> None:
    """Raise ServeError when another program listens on host:port, before the server prints it serves."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServeError(port_error(host, port, exc)) from None


def port_error(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use by another program; choose another with --port"
    if error.errno == errno.EACCES:
        return f"port {port} on {host} needs more privileges; choose one above 1023 with --port"
    return f"cannot listen on {host}:{port} ({error.strerror or error})"


def main(argv: list[str]) -> int:
    from linreg_tui.commands.common import attach_flag_values, refuse

    # `--w -3.4,2` as `--w=-3.4,2` first, so that the value travels with its flag to the app.
    args, app_argv = build_parser().parse_known_args(attach_flag_values(argv))
    try:
        port = parse_port(args.port)
        public_url = check_public_url(args.public_url) if args.public_url else None
        max_sessions = parse_max_sessions(args.max_sessions)
        idle_minutes = parse_idle_minutes(args.idle_minutes)
        files = check_files(args.files) if args.files is not None else None
        token = choose_token(args.token, no_token=args.no_token, allow_remote=args.allow_remote, environ=os.environ)
        check_app_flags(app_argv)
        remote = not is_loopback(args.host)
    except (ServeError, ConfigError, ConfigFileError) as exc:
        return refuse(exc)
    where = f"{args.host}:{port}"
    if remote and not args.allow_remote:
        print(
            f"linreg-tui: refused --host {args.host}: {remote_risk(where, port)} "
            "(or add --allow-remote to serve it anyway, on a network you trust)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    if remote:
        print(f"linreg-tui: warning: {remote_risk(where, port)}", file=sys.stderr)
    if token is None:
        print(
            "linreg-tui: warning: --no-token: any program on this machine, and a web page through DNS "
            "rebinding, can run the app here",
            file=sys.stderr,
        )
    try:
        check_port_free(args.host, port)
    except ServeError as exc:
        print(f"linreg-tui: {exc}", file=sys.stderr)
        return EXIT_FAILED
    settings = ServeSettings(
        command=app_command(app_argv),
        host=args.host,
        port=port,
        public_url=public_url,
        token=token,
        max_sessions=max_sessions,
        idle_minutes=idle_minutes,
        files=files,
    )
    return serve(settings)


def serve(settings: ServeSettings) -> int:
    """Serve until Ctrl+C or SIGTERM, which close every tab's app and end with exit 0: stopping is the
    only way a server ends, so it is not a failure (unlike a headless run cut short, which exits 130)."""
    from linreg_tui.ui.web.server import LinregServer

    server = LinregServer(settings)
    try:
        server.serve()
    except OSError as exc:  # the port taken between the check and the bind
        print(f"linreg-tui: {port_error(settings.host, settings.port, exc)}", file=sys.stderr)
        return EXIT_FAILED
    print("linreg-tui: stopped serving", file=sys.stderr)
    return EXIT_SERVED
