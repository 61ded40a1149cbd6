"""The page server answers only requests that name it, and answers every bad one with a 4xx.

A real server on 127.0.0.1 (port 0), real sockets; no mocks.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dse.browse.server import allowed_host, make_server


@pytest.fixture(scope="module")
def port(small_results: Path) -> Iterator[int]:
    server = make_server(small_results, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def get(port: int, path: str, host: str | None = "default",
        method: str = "GET") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=host != "default")
        if host not in ("default", None):
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_loopback_names_are_served(port: int) -> None:
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}"):
        status, body = get(port, "/api/pareto", host)
        assert status == 200, host
        assert isinstance(json.loads(body), list | dict)


@pytest.mark.parametrize(
    "host",
    ["attacker.example", "attacker.example:{port}", "127.0.0.1.attacker.example:{port}",
     "127.0.0.1:1", "", "localhost:{port}:1", "[::1"],
)
def test_other_host_headers_are_refused(port: int, host: str) -> None:
    # NOTE: DNS rebinding: the attacker's name resolves to 127.0.0.1 but its requests
    # still carry `Host: attacker.example`.
    for path in ("/", "/api/pareto", "/api/trial/0"):
        status, body = get(port, path, host.format(port=port))
        assert status == 421, (host, path)
        assert b"dse results" not in body and b"trial_number" not in body


def test_a_request_without_host_is_refused(port: int) -> None:
    status, _ = get(port, "/api/pareto", host=None)
    assert status == 421


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/trial/" + "9" * 5000, 404),  # used to reset the connection
        ("GET", "/api/trial/123456789012", 404),  # a number, but no such trial
        ("GET", "/api/trial/abc", 404),
        ("GET", "/etc/passwd", 404),
        ("GET", "/../../etc/passwd", 404),
        ("POST", "/", 405),
        ("DELETE", "/api/pareto", 405),
        ("TRACE", "/", 405),
        ("BREW", "/", 405),
    ],
)
def test_bad_requests_get_a_4xx_answer(port: int, method: str, path: str, status: int) -> None:
    got, body = get(port, path, f"127.0.0.1:{port}", method)
    assert got == status
    if got == 404:
        assert "error" in json.loads(body)


def test_malformed_requests_get_400_not_a_reset(port: int) -> None:
    assert b"Error code: 400" in raw(port, b"GARBAGE\r\n\r\n")  # an HTTP/0.9 answer
    assert b"Error code: 400" in raw(port, b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n")
    assert b"Error code: 400" in raw(port, b"GET / HTTP/1.1 extra\r\n\r\n")
    long_line = b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"
    assert raw(port, long_line).split(b" ")[1] == b"414"


def test_allowed_host_rules() -> None:
    assert allowed_host("127.0.0.1:8765", "127.0.0.1", 8765)
    assert allowed_host("LOCALHOST", "127.0.0.1", 8765)
    assert not allowed_host("localhost:8766", "127.0.0.1", 8765)
    assert not allowed_host(None, "127.0.0.1", 8765)
    # bound to one address: that address too, and nothing else
    assert allowed_host("192.168.1.5:8765", "192.168.1.5", 8765)
    assert not allowed_host("192.168.1.6:8765", "192.168.1.5", 8765)
    # bound to every interface: any address literal (rebinding needs a name), no names
    assert allowed_host("192.168.1.6:8765", "0.0.0.0", 8765)
    assert allowed_host("[fe80::1]:8765", "::", 8765)
    assert not allowed_host("intranet.example:8765", "0.0.0.0", 8765)
