"""A small OpenAI-compatible SSE stub on 127.0.0.1 for the client's own logic.

The model name picks the behaviour: ``ok``, ``http500``, ``http400``, ``slow`` (first
byte after 2 s), ``reset-once`` (drops the first connection without a response),
``drip`` (first token after 0.2 s, the rest 0.2 s later), ``echo`` (answers with the
last user message's ``#answer`` hint, see tests), ``cut`` (the first chunk of the stream,
then the connection closes short of the promised length: a server killed mid-answer).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Stub:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[dict] = []
        self.resets = 0
        self.cuts = 0  # streams "cut" broke
        self.reply = "Paris"  # what "ok" answers
        self.delay_s = 0.0  # "ok" waits this long before answering


def _chunks(api: str, text: str):
    for i, piece in enumerate(text.split(" ")):
        piece = piece if i == 0 else " " + piece
        if api == "chat":
            yield {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        else:
            yield {"choices": [{"index": 0, "text": piece, "finish_reason": None}]}


def make_handler(stub: Stub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):  # quiet
            pass

        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            api = "chat" if self.path.endswith("/chat/completions") else "completions"
            model = body["model"]
            with stub.lock:
                stub.requests.append({"path": self.path, **body})
                if model == "reset-once" and stub.resets == 0:
                    stub.resets += 1
                    self.close_connection = True
                    return
                stub.in_flight += 1
                stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
            try:
                self._answer(model, api, body)
            finally:
                with stub.lock:
                    stub.in_flight -= 1

        def _answer(self, model, api, body):
            if model in ("http500", "http400"):
                code = int(model[4:])
                data = json.dumps({"error": {"message": f"boom {code}"}}).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if model == "cut":
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("content-length", "100000")
                self.end_headers()
                self.wfile.write(b'data: {"choices": [{"index": 0, "delta": {"content": "Pa"}}]}\n\n')
                self.wfile.flush()
                with stub.lock:
                    stub.cuts += 1
                return
            if model == "slow":
                time.sleep(5)
            if model == "ok" and stub.delay_s:
                time.sleep(stub.delay_s)
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            reply = stub.reply
            if model == "echo":
                msgs = body.get("messages") or [{"content": body.get("prompt", "")}]
                reply = msgs[-1]["content"].split("#")[-1].strip()

            def send(obj):
                self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
                self.wfile.flush()

            # a role-only first chunk, as vLLM sends for chat
            if api == "chat":
                send(
                    {
                        "choices": [
                            {
                                "index": 0,
                                "delta": {"role": "assistant", "content": ""},
                                "finish_reason": None,
                            }
                        ]
                    }
                )
            if model == "drip":
                time.sleep(0.2)
            pieces = list(_chunks(api, reply))
            for i, c in enumerate(pieces):
                send(c)
                if model == "drip" and i == 0:
                    time.sleep(0.2)
            last = {"index": 0, "finish_reason": "stop"}
            last.update({"delta": {}} if api == "chat" else {"text": ""})
            send({"choices": [last]})
            send(
                {
                    "choices": [],
                    "usage": {
                        "prompt_tokens": 11,
                        "completion_tokens": len(pieces),
                        "total_tokens": 11 + len(pieces),
                    },
                }
            )
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler


@pytest.fixture
def stub():
    state = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # broken pipes after client timeouts
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def free_port_url():
    """A URL where nothing listens (connection refused)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"
