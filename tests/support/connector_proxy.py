"""A small real connector proxy on loopback, speaking SpiffArena's protocol, for the tests.

GET /v1/commands lists its operators; POST /v1/do/<operator> answers as
spiffworkflow-proxy does (command_response_version 2). Each operator is a function of
the JSON parameters that returns (status, answer); `calls` keeps what was asked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Operator = Callable[[dict[str, Any]], tuple[int, Any]]


def ok(body: Any) -> tuple[int, Any]:
    """A successful command's answer, as a v2 proxy gives it."""
    return 200, {"command_response": {"body": body, "mimetype": "application/json",
                                      "http_status": 200},
                 "command_response_version": 2, "error": None, "spiff__logs": []}


def failing(status: int = 500) -> tuple[int, Any]:
    """A command that failed, as a proxy reports it."""
    return status, {"command_response": {}, "command_response_version": 2,
                    "error": {"error_code": "UpstreamDown", "message": "the CRM is down"}}


@dataclass
class Proxy:
    """A running proxy: its base URL, its operators and the calls it received."""

    url: str
    operators: dict[str, Operator]
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    listings: int = 0
    # Plain GET pages it also serves (path -> JSON answer), for Plaint's own HTTP operator.
    pages: dict[str, Any] = field(default_factory=dict)
    visits: list[str] = field(default_factory=list)


@contextmanager
def connector_proxy(operators: dict[str, Operator]) -> Iterator[Proxy]:
    """Run a connector proxy on 127.0.0.1 with these operators until the block ends."""
    proxy = Proxy("", operators)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, answer: Any) -> None:
            """Send a JSON answer."""
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            """The command list, or one of the plain pages."""
            if self.path in proxy.pages:
                proxy.visits.append(self.path)
                self._answer(200, proxy.pages[self.path])
                return
            if self.path != "/v1/commands":
                self._answer(404, {"error": "not found"})
                return
            proxy.listings += 1
            self._answer(200, [{"id": name, "parameters": []} for name in proxy.operators])

        def do_POST(self) -> None:
            """A command call: /v1/do/<operator> with the parameters as JSON."""
            length = int(self.headers.get("Content-Length") or 0)
            params = json.loads(self.rfile.read(length) or b"{}")
            name = self.path.removeprefix("/v1/do/")
            proxy.calls.append((name, params))
            operator = proxy.operators.get(name)
            if operator is None:
                self._answer(404, {"error": {"error_code": "NotFound", "message": name}})
                return
            self._answer(*operator(params))

        def log_message(self, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
