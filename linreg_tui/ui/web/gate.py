"""Who gets an app from `linreg-tui serve`: the token, the websocket's Origin, and the number of tabs.

A tab's app runs on this machine with the server user's rights, and loopback does not keep out the web
pages that the user's own browser opens. So, as Jupyter does, the server has a random token, printed in
its URL; the page turns it into a cookie (HttpOnly, SameSite=Strict) because textual-serve's page
builds its websocket and download URLs itself, without the page's query. The websocket's Origin must
name the host the request came to, so another site's page cannot drive a tab even where a cookie would
go along; the token is what stops DNS rebinding (a hostile name that resolves to 127.0.0.1 has no
cookie and no token). Pure Python, no aiohttp: the server (linreg_tui.ui.web.server) hands over the
request's pieces, and the flags' checks need nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

#: The server's token, when --token does not give one (and the apps must not inherit it).
TOKEN_VARIABLE = "LINREG_TUI_TOKEN"
#: A token goes into a URL and a cookie as it is: only characters neither needs to escape, and enough
#: of them not to be guessed.
TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_.~")
MIN_TOKEN_LENGTH = 16
TOKEN_ALLOWED = f"at least {MIN_TOKEN_LENGTH} of the characters A-Z a-z 0-9 - _ . ~"
DEFAULT_PORTS = {"http": 80, "https": 443}


class ServeError(ValueError):
    """A serve flag that is refused: one line naming the flag and what is allowed."""


def check_token(token: str, source: str) -> str:
    """A token given by --token or $LINREG_TUI_TOKEN (`source`, which the message names). The token itself
    is not repeated: it is a secret, and a message lands in logs."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise ServeError(f"{source}: the token given has {len(token)} characters (allowed: {TOKEN_ALLOWED})")
    if not TOKEN_CHARACTERS.issuperset(token):
        raise ServeError(f"{source}: the token given has other characters (allowed: {TOKEN_ALLOWED})")
    return token


def choose_token(given: str | None, *, no_token: bool, allow_remote: bool, environ: Mapping[str, str]) -> str | None:
    """The server's token: --token (`given`), else $LINREG_TUI_TOKEN, else a new random one; None with
    --no-token, which only loopback may use."""
    if no_token:
        if given is not None:
            raise ServeError("--no-token: not with --token (allowed: one of them)")
        if allow_remote:
            raise ServeError("--no-token: not with --allow-remote (allowed: --no-token on loopback only)")
        return None
    if given is not None:
        return check_token(given, "--token")
    if (from_environment := environ.get(TOKEN_VARIABLE)) is not None:
        return check_token(from_environment, TOKEN_VARIABLE)
    return secrets.token_urlsafe(32)


def origin_allowed(origin: str | None, host: str | None, public_url: str | None) -> bool:
    """Whether a websocket's Origin header names where the request went: its Host header (whatever port
    an SSH tunnel chose), or --public-url's host (a proxy may rewrite Host). A missing Origin is allowed:
    browsers always send one with a websocket, so its absence means a program such as curl or a test,
    which the token still guards. `Origin: null` (a sandboxed or file: page) names no host: refused."""
    if origin is None:
        return True
    try:
        parts = urlsplit(origin)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            return False
        default_port = DEFAULT_PORTS[parts.scheme]
        came_from = (parts.hostname, parts.port or default_port)
        allowed = set()
        if host:
            # Host carries no scheme: a missing port is the default of the scheme the page was loaded with.
            host_parts = urlsplit(f"//{host}")
            allowed.add((host_parts.hostname, host_parts.port or default_port))
        if public_url:
            public = urlsplit(public_url)
            allowed.add((public.hostname, public.port or DEFAULT_PORTS.get(public.scheme, default_port)))
    except ValueError:  # a port that is not a number, or out of range
        return False
    return came_from in allowed


class Sessions:
    """The tabs with an app now, at most `limit`. Claimed before the app process starts, freed after it
    ended; claim and check happen with no await between them, so two tabs cannot both take the last."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.live = 0

    @property
    def full(self) -> bool:
        return self.live >= self.limit

    @contextlib.contextmanager
    def claimed(self) -> Iterator[None]:
        if self.full:
            raise RuntimeError("claimed a session while the server is full")
        self.live += 1
        try:
            yield
        finally:
            self.live -= 1


@dataclass(frozen=True)
class Refusal:
    """Why a request gets no app: its HTTP status and a sentence for the person (no request data in it)."""

    status: int
    reason: str


TOKEN_NEEDED = Refusal(
    403, "This server needs its token: open the URL that `linreg-tui serve` printed (it ends in ?token=…)."
)
FOREIGN_ORIGIN = Refusal(403, "A page from another site may not open this server's app.")


class Gate:
    """The server's checks, fed the request's query token, cookies and headers."""

    def __init__(self, token: str | None, max_sessions: int, public_url: str | None = None) -> None:
        self._token = token.encode() if token is not None else None
        self.public_url = public_url
        self.sessions = Sessions(max_sessions)
        #: One name per token, so that two servers on one host (cookies ignore the port) keep apart.
        self.cookie_name = f"linreg-tui-{hashlib.sha256(self._token or b'').hexdigest()[:12]}"

    @property
    def needs_token(self) -> bool:
        return self._token is not None

    def _matches(self, given: str | None) -> bool:
        assert self._token is not None
        # Bytes: compare_digest refuses a str with other than ASCII, which a query may hold.
        return given is not None and hmac.compare_digest(given.encode(errors="surrogatepass"), self._token)

    def token_in_query(self, query: Mapping[str, str]) -> bool:
        """Whether the query brings the right token: then the page sets the cookie."""
        return self._token is not None and self._matches(query.get("token"))

    def authorized(self, query: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
        if self._token is None:
            return True
        return self._matches(query.get("token")) or self._matches(cookies.get(self.cookie_name))

    def cookie_value(self) -> str:
        assert self._token is not None
        return self._token.decode()

    def page_refusal(self, query: Mapping[str, str], cookies: Mapping[str, str]) -> Refusal | None:
        """Why `GET /` shows no app page, or None: the token first, so a stranger learns nothing more."""
        if not self.authorized(query, cookies):
            return TOKEN_NEEDED
        return self.full_refusal()

    def websocket_refusal(
        self, query: Mapping[str, str], cookies: Mapping[str, str], headers: Mapping[str, str]
    ) -> Refusal | None:
        """Why a websocket gets no app, or None; decided before the websocket is accepted or a process
        starts."""
        if not self.authorized(query, cookies):
            return TOKEN_NEEDED
        if not origin_allowed(headers.get("Origin"), headers.get("Host"), self.public_url):
            return FOREIGN_ORIGIN
        return self.full_refusal()

    def full_refusal(self) -> Refusal | None:
        if not self.sessions.full:
            return None
        limit = self.sessions.limit
        return Refusal(
            503,
            f"The server is full ({self.sessions.live} of {limit} session{'s' if limit != 1 else ''}): "
            "close a tab or try later.",
        )
