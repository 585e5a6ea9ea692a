"""A real HTTP server for the platform tests that need one (the dispatcher's execute
processes report to it; a browser loads its pages): the app served by uvicorn on
127.0.0.1 in a thread. Imported as ``from live_server import Server`` (pytest puts
tests/platform on ``sys.path``: it has a conftest.py and no ``__init__.py``)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from podium.engine.process import free_port


class Server:
    """A podium app served by uvicorn on 127.0.0.1 in a thread; ``stop`` and ``start``
    again on the same data directory = a server restart. The dispatcher's periods are
    short (``dispatch`` overrides them and sets any other DispatchSettings field)."""

    def __init__(self, data_dir: Path, **dispatch: object) -> None:
        from podium.platform.dispatch.settings import DispatchSettings
        from podium.platform.settings import Settings

        self.port = free_port()
        self.settings = Settings(data_dir=data_dir, env="production", secret_key="s" * 40)
        # 20 s: a `podium execute` on a loaded 2-core machine can take over 5 s to send its first heartbeat
        quick = {"heartbeat_interval_s": 0.3, "heartbeat_timeout_s": 20.0, "poll_s": 0.2, "cancel_grace_s": 2.0}
        self.dispatch = DispatchSettings(server_url=f"http://127.0.0.1:{self.port}", **{**quick, **dispatch})
        self.uv = None

    def start(self) -> None:
        import uvicorn

        from podium.platform.app import create_app

        self.app = create_app(self.settings, dispatch=self.dispatch)
        self.uv = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.uv.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.uv.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.uv.started

    def stop(self) -> None:
        self.uv.should_exit = True
        self.thread.join(timeout=30)
        self.app.state.db.dispose()

    @property
    def db(self):
        return self.app.state.db
