"""A body that trickles in is cut off by the read timeout, and other requests are not harmed."""

from __future__ import annotations

import socket
import time

from tests.conftest import BODY_READ_TIMEOUT_SECONDS, Api


def test_a_slow_body_is_refused_with_408_while_other_requests_are_served(api: Api) -> None:
    port = api.stack.ports["targets"]
    token = api.token("admin")
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=BODY_READ_TIMEOUT_SECONDS + 10) as slow:
        slow.sendall(
            (
                "POST /v1/api-keys HTTP/1.1\r\n"
                "Host: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: 1000\r\n\r\n"
                '{"name": "sl'
            ).encode()
        )
        # While the slow body hangs, the service keeps answering others.
        assert api.client("targets").get("/v1/plans").status_code == 200
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = slow.recv(4096)
            if not chunk:
                break
            answer += chunk
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"application/problem+json" in answer
    assert elapsed >= BODY_READ_TIMEOUT_SECONDS - 0.5
