"""`linreg-tui serve`: the app in a browser, one app process per tab, with textual-serve.

The flags are checked here, before anything is served: a bad run flag or port is refused once, in one
line, rather than in every tab. textual-serve (aiohttp) is imported only when serving, so `--help` and
the refusals answer at once. textual-serve has no authentication: whoever reaches the port gets an app
that runs on this machine, so only loopback is served unless --allow-remote says otherwise.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import shlex
import signal
import socket
import sys
from urllib.parse import urlsplit

from linreg_tui.config import ConfigError
from linreg_tui.config_file import ConfigFileError

EXIT_SERVED = 0
EXIT_FAILED = 1
EXIT_INVALID = 2

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def no_authentication(where: str, port: int) -> str:
    """Why a non-loopback address is refused (or, with --allow-remote, warned about), and the safe way."""
    return (
        f"textual-serve has no authentication: anyone who can reach {where} runs the app on this machine; "
        f"from your computer use an SSH tunnel instead: `ssh -L {port}:localhost:{port} server`, then "
        f"`linreg-tui serve{'' if port == DEFAULT_PORT else f' --port {port}'}` on the server and open "
        f"http://localhost:{port}"
    )


class ServeError(ValueError):
    """A serve flag that is refused: one line naming the flag and what is allowed."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linreg-tui serve",
        allow_abbrev=False,  # `--p` must not be taken for --port: the flags it does not know are the app's
        description="Serve the app to a web browser (textual-serve): each browser tab runs its own app. "
        "Ctrl+C stops the server and its apps. Any other flags are the app's (see `linreg-tui --help`: "
        "--preset, --config, --w, --lr, ...): they prefill every tab's form, as they do for `linreg-tui`.",
        epilog="Over SSH: `ssh -L 8000:localhost:8000 server`, then `linreg-tui serve` on the server, "
        "and open http://localhost:8000 on your computer.",
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
        help="serve on an address other machines can reach; there is no authentication (a classroom network)",
    )
    return parser


def parse_port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ServeError(f"--port: {text!r} is not a port (allowed: a whole number from 1 to 65535)")
    return int(text)


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
    return shlex.join([sys.executable, "-m", "linreg_tui", *app_argv])


def check_app_flags(app_argv: list[str]) -> None:
    """Refuse, once and before serving, what every tab's app would refuse (the same reading as
    cli._main's: the preset, the config file over it, the flags over both)."""
    from linreg_tui.cli import build_parser as app_parser
    from linreg_tui.cli import run_texts
    from linreg_tui.sweep import expand

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
    from linreg_tui.cli import attach_flag_values, refuse

    # `--w -3.4,2` as `--w=-3.4,2` first, so that the value travels with its flag to the app.
    args, app_argv = build_parser().parse_known_args(attach_flag_values(argv))
    try:
        port = parse_port(args.port)
        public_url = check_public_url(args.public_url) if args.public_url else None
        check_app_flags(app_argv)
        remote = not is_loopback(args.host)
    except (ServeError, ConfigError, ConfigFileError) as exc:
        return refuse(exc)
    where = f"{args.host}:{port}"
    if remote and not args.allow_remote:
        print(
            f"linreg-tui: refused --host {args.host}: {no_authentication(where, port)} "
            "(or add --allow-remote to serve it anyway, on a network you trust)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    if remote:
        print(f"linreg-tui: warning: {no_authentication(where, port)}", file=sys.stderr)
    try:
        check_port_free(args.host, port)
    except ServeError as exc:
        print(f"linreg-tui: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return serve(app_command(app_argv), args.host, port, public_url)


def serve(command: str, host: str, port: int, public_url: str | None) -> int:
    """Serve until Ctrl+C or SIGTERM, which close every tab's app and end with exit 0: stopping is the
    only way a server ends, so it is not a failure (unlike a headless run cut short, which exits 130)."""
    import asyncio

    from aiohttp import web
    from textual_serve.server import Server

    class LinregServer(Server):
        """textual-serve's Server, which says it serves only once the port listens (its banner comes
        from on_startup, before the bind: a client that trusted it could find the port closed)."""

        async def on_startup(self, app: web.Application) -> None:
            pass

        def listening(self, *aiohttp_banner: object) -> None:
            print(f"linreg-tui: serving the app on {self.public_url} (a new app per browser tab); Ctrl+C stops")
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

    server = LinregServer(command, host=host, port=port, title="linreg-tui", public_url=public_url)
    try:
        server.serve()
    except OSError as exc:  # the port taken between the check and the bind
        print(f"linreg-tui: {port_error(host, port, exc)}", file=sys.stderr)
        return EXIT_FAILED
    print("linreg-tui: stopped serving", file=sys.stderr)
    return EXIT_SERVED
