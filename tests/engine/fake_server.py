"""A stand-in for vLLM's API server, for engine tests that need no model.

Run as ``python fake_server.py --model M --served-model-name NAME --host H --port P``;
``FAKE_ENGINE_MODE`` picks the behaviour:

When ``NEURON_COMPILED_ARTIFACTS`` names an empty directory, a "compiled" file is
written into it first, as the Neuron plugin would.

* ``ready``: answers /health and /v1/models, and starts two children (one in its own
  session, which a process-group kill alone would miss) to make a process tree.
* ``hang``: accepts connections and never answers.
* ``fail``: prints a vLLM-like traceback and exits with code 2.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model")
    parser.add_argument("--served-model-name")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args, _ = parser.parse_known_args()
    mode = os.environ.get("FAKE_ENGINE_MODE", "ready")
    name = args.served_model_name or args.model
    print(f"fake engine: mode={mode} pid={os.getpid()}", flush=True)

    if mode == "fail":
        print("Traceback (most recent call last):", flush=True)
        print('  File "vllm/config/model.py", line 1, in __post_init__', flush=True)
        print("ValueError: fake engine refuses --fake-option", flush=True)
        print("RuntimeError: Engine core initialization failed. See root cause above.")
        sys.exit(2)

    artifacts = os.environ.get("NEURON_COMPILED_ARTIFACTS")
    if artifacts and os.path.isdir(artifacts) and not os.listdir(artifacts):
        with open(os.path.join(artifacts, "model.neff"), "w") as fh:
            fh.write("compiled\n")

    if mode == "ready":
        subprocess.Popen(SLEEP)
        subprocess.Popen(SLEEP, start_new_session=True)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if mode == "hang":
                time.sleep(3600)
                return
            if self.path == "/health":
                body = b""
            elif self.path == "/v1/models":
                body = json.dumps({"object": "list", "data": [{"id": name}]}).encode()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            pass

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print("fake engine: listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
