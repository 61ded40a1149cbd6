"""`dse browse`: serve the results page on a local port with the standard library.

GET /                 the page, rebuilt from the folder on every request (a running
                      search shows its latest trials on reload)
GET /api/trial/<n>    one design's breakdown as JSON (for designs the page does not embed)
GET /api/pareto       the front as JSON rows (what `dse pareto --format json` prints)

Binds 127.0.0.1 unless told otherwise: the page shows unpublished design data.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dse.browse.detail import design_detail
from dse.browse.page import build_page, error_page
from dse.browse.pareto import pareto_front
from dse.browse.render import pareto_json
from dse.browse.results import open_results
from dse.errors import ConfigError


def _handler_for(root: Path) -> type[BaseHTTPRequestHandler]:
    class ResultsHandler(BaseHTTPRequestHandler):
        server_version = "dse-browse"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request would drown the URL the user needs to see

        def _send(self, status: int, body: str, content_type: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            try:
                if path in ("/", "/index.html"):
                    self._send(HTTPStatus.OK, build_page(open_results(root)), "text/html")
                    return
                match = re.fullmatch(r"/api/trial/(-?\d+)", path)
                if match:
                    detail = design_detail(open_results(root), int(match.group(1)))
                    self._send(HTTPStatus.OK, json.dumps(detail.to_dict()), "application/json")
                    return
                if path == "/api/pareto":
                    table = pareto_front(open_results(root))
                    self._send(HTTPStatus.OK, pareto_json(table), "application/json")
                    return
                self._send(HTTPStatus.NOT_FOUND, json.dumps({"error": "not found"}),
                           "application/json")
            except ConfigError as exc:
                message = "\n".join(str(p) for p in exc.problems)
                if path.startswith("/api/"):
                    self._send(HTTPStatus.NOT_FOUND, json.dumps({"error": message}),
                               "application/json")
                else:
                    self._send(HTTPStatus.OK, error_page(message), "text/html")

    return ResultsHandler


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """A bound (not yet serving) HTTP server for the results folder at `root`."""
    try:
        server = ThreadingHTTPServer((host, port), _handler_for(root))
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                          "--host/--port") from None
    server.daemon_threads = True
    return server
