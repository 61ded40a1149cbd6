"""`dse browse`: serve the results page on a local port with the standard library.

GET /                 the page, rebuilt from the folder on every request (a running
                      search shows its latest trials on reload)
GET /assets/plotly-<version>.min.js
                      plotly.js, cached by the browser (the version is in the name)
GET /api/trial/<n>    one design's breakdown as JSON (the page fetches it when clicked)
GET /api/pareto       the front as JSON rows (what `dse pareto --format json` prints)
GET /api/pareto.csv   the front as CSV (what `dse pareto --format csv` prints)
GET /api/importance   parameter importance per objective (`dse.browse.importance`)

Answers are gzip-compressed for clients that accept it (every browser does).

Binds 127.0.0.1 unless told otherwise: the page shows unpublished design data. Every
request must name this server in its `Host` header (see `allowed_host`), and every bad
request gets a 4xx answer, never a dropped connection.
"""

from __future__ import annotations

import gzip
import ipaddress
import json
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dse.browse.detail import design_detail
from dse.browse.importance import importance_for
from dse.browse.page import _plotly_js, build_page, error_page, plotly_asset_path
from dse.browse.pareto import pareto_front
from dse.browse.render import pareto_csv, pareto_json
from dse.browse.results import open_results
from dse.errors import ConfigError

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_TRIAL_DIGITS = 12
"""Trial numbers are far below 10^12; a longer number is refused before int() parses it."""
_TRIAL_PATH = re.compile(rf"/api/trial/(-?\d{{1,{MAX_TRIAL_DIGITS}}})")
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})
_GZIP_MIN_BYTES = 1024
_plotly_lock = threading.Lock()
_plotly_bodies: dict[bool, bytes] = {}


def _plotly_body(compressed: bool) -> bytes:
    """plotly.js as bytes, gzipped or not, built once per process."""
    with _plotly_lock:
        if compressed not in _plotly_bodies:
            raw = _plotly_js().encode("utf-8")
            _plotly_bodies[compressed] = gzip.compress(raw, 6) if compressed else raw
        return _plotly_bodies[compressed]


def _host_and_port(header: str) -> tuple[str, int | None] | None:
    """`example.org:8765` -> ("example.org", 8765); `[::1]:80` -> ("::1", 80); None if malformed."""
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        if end < 0:
            return None
        host, rest = header[1:end], header[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:] if rest else ""
    else:
        host, _, port_text = header.partition(":")
    if not host:
        return None
    if port_text:
        if not port_text.isdigit() or len(port_text) > 5:
            return None
        return host, int(port_text)
    return host, None


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def allowed_host(header: str | None, bound_host: str, bound_port: int) -> bool:
    """Whether a request's `Host` header names this server.

    NOTE: DNS rebinding: a web page from attacker.example re-resolves its own name to
    127.0.0.1 and reads this server from the victim's browser; its requests still say
    `Host: attacker.example`. So only the loopback names and the bound address are
    accepted, with this server's port (or none). When bound to every interface
    (0.0.0.0 or ::), any IP address literal is accepted as well: a rebinding attack
    needs a domain name, never a bare address.
    """
    if header is None:
        return False
    parsed = _host_and_port(header)
    if parsed is None:
        return False
    host, port = parsed
    if port is not None and port != bound_port:
        return False
    bound = bound_host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host == bound:
        return True
    return bound in _WILDCARDS and _is_ip_literal(host)


def _handler_for(root: Path) -> type[BaseHTTPRequestHandler]:
    class ResultsHandler(BaseHTTPRequestHandler):
        server_version = "dse-browse"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request would drown the URL the user needs to see

        def _accepts_gzip(self) -> bool:
            return "gzip" in (self.headers.get("Accept-Encoding") or "").lower()

        def _send(self, status: int, body: str | bytes, content_type: str, *,
                  cache: str = "no-store", encoded: bool = False,
                  extra: dict[str, str] | None = None) -> None:
            """`encoded`: `body` is already gzip-compressed bytes."""
            data = body.encode("utf-8") if isinstance(body, str) else body
            if not encoded and len(data) >= _GZIP_MIN_BYTES and self._accepts_gzip():
                # NOTE: the page is mostly JSON numbers and plotly.js; gzip level 1 makes
                # it ~4x smaller in a few ms per MB, far cheaper than sending it.
                data, encoded = gzip.compress(data, 1), True
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", cache)
            self.send_header("Vary", "Accept-Encoding")
            if encoded:
                self.send_header("Content-Encoding", "gzip")
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            self._send(status, json.dumps({"error": message}), "application/json")

        def _refused(self) -> bool:
            """Answer 421 to a request whose Host header does not name this server."""
            address: Any = self.server.server_address
            if allowed_host(self.headers.get("Host"), str(address[0]), int(address[1])):
                return False
            self._error(HTTPStatus.MISDIRECTED_REQUEST,
                        "unknown Host header; open the page as http://127.0.0.1:PORT/")
            return True

        def do_GET(self) -> None:
            if self._refused():
                return
            path = self.path.split("?", 1)[0]
            try:
                self._answer(path)
            except ConfigError as exc:
                message = "\n".join(str(p) for p in exc.problems)
                if path.startswith("/api/"):
                    self._error(HTTPStatus.NOT_FOUND, message)
                else:
                    self._send(HTTPStatus.OK, error_page(message), "text/html")
            except (ValueError, KeyError, IndexError, OverflowError) as exc:
                # NOTE: a request this server cannot answer (a number beyond any trial,
                # a malformed path) is the client's mistake: 400 with the reason.
                self._error(HTTPStatus.BAD_REQUEST, f"{type(exc).__name__}: {exc}"[:300])
            except Exception as exc:  # the folder, not the request, is bad
                # NOTE: answered, not raised: an uncaught error would reset the connection
                # and print a traceback over the URL the user is reading.
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR,
                            f"cannot read the results: {type(exc).__name__}: {exc}"[:300])

        def _answer(self, path: str) -> None:
            if path in ("/", "/index.html"):
                page = build_page(open_results(root), standalone=False)
                self._send(HTTPStatus.OK, page, "text/html")
                return
            if path == plotly_asset_path():
                gz = self._accepts_gzip()
                self._send(HTTPStatus.OK, _plotly_body(gz), "text/javascript",
                           cache="public, max-age=31536000, immutable", encoded=gz)
                return
            if path == "/api/importance":
                importance = importance_for(open_results(root))
                self._send(HTTPStatus.OK, json.dumps(importance.to_dict(), allow_nan=False),
                           "application/json")
                return
            if path == "/api/pareto.csv":
                table = pareto_front(open_results(root))
                self._send(HTTPStatus.OK, pareto_csv(table), "text/csv",
                           extra={"Content-Disposition": 'attachment; filename="front.csv"'})
                return
            if path.startswith("/api/trial/"):
                match = _TRIAL_PATH.fullmatch(path)
                if not match:
                    self._error(HTTPStatus.NOT_FOUND, "no such trial; /api/trial/<number>")
                    return
                detail = design_detail(open_results(root), int(match.group(1)))
                self._send(HTTPStatus.OK, json.dumps(detail.to_dict()), "application/json")
                return
            if path == "/api/pareto":
                table = pareto_front(open_results(root))
                self._send(HTTPStatus.OK, pareto_json(table), "application/json")
                return
            self._error(HTTPStatus.NOT_FOUND, "not found")

        def do_HEAD(self) -> None:
            self.do_GET()

        def _not_allowed(self) -> None:
            if self._refused():
                return
            self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
            self.send_header("Allow", "GET, HEAD")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

        def send_error(self, code: int, message: str | None = None,
                       explain: str | None = None) -> None:
            # NOTE: the standard library answers an unknown method (TRACE, FOO) with 501
            # and an HTTP version it does not speak with 505; both are the client's
            # mistake, so they get a 4xx like every other bad request.
            if code == HTTPStatus.NOT_IMPLEMENTED:
                code = HTTPStatus.METHOD_NOT_ALLOWED
            elif code == HTTPStatus.HTTP_VERSION_NOT_SUPPORTED:
                code = HTTPStatus.BAD_REQUEST
            super().send_error(code, message, explain)

    return ResultsHandler


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """A bound (not yet serving) HTTP server for the results folder at `root`."""
    try:
        server = ThreadingHTTPServer((host, port), _handler_for(root))
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                          "--host/--port") from None
    except (OverflowError, ValueError) as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc}", "--host/--port") from None
    server.daemon_threads = True
    # NOTE: gzipping plotly.js (4.8 MB) takes a few hundred ms; done now, in the background,
    # it is not on the first page load's path.
    threading.Thread(target=_plotly_body, args=(True,), daemon=True).start()
    return server
