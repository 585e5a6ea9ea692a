"""Where ``podium login`` keeps the server URL and API token of a participant.

``$XDG_CONFIG_HOME/podium/config.json`` (default ``~/.config/podium/config.json``), written
with mode 0600 in a 0700 directory. ``PODIUM_SERVER`` and ``PODIUM_TOKEN`` override what
is stored. The token is read from here and sent as a bearer header; it is never printed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

SERVER_ENV = "PODIUM_SERVER"
TOKEN_ENV = "PODIUM_TOKEN"


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "podium"


def config_path() -> Path:
    return config_dir() / "config.json"


@dataclass(frozen=True)
class Login:
    server: str | None
    token: str | None
    source: str  # "config", "env", "config+env" or "none"

    def __repr__(self) -> str:  # never show the token, even in a traceback
        return f"Login(server={self.server!r}, token={'***' if self.token else None}, source={self.source!r})"


def normalise_server(url: str) -> str:
    url = url.strip().rstrip("/")
    if url and "://" not in url:
        url = "http://" + url
    return url


def read_stored() -> dict[str, str]:
    path = config_path()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def load() -> Login:
    """The login in effect: the stored one, each field overridden by its variable."""
    stored = read_stored()
    env_server = os.environ.get(SERVER_ENV) or None
    env_token = os.environ.get(TOKEN_ENV) or None
    server = env_server or stored.get("server")
    token = env_token or stored.get("token")
    used_env = bool(env_server or env_token)
    used_cfg = bool((stored.get("server") and not env_server) or (stored.get("token") and not env_token))
    source = "config+env" if used_env and used_cfg else "env" if used_env else "config" if used_cfg else "none"
    return Login(normalise_server(server) if server else None, token, source)


def save(server: str, token: str) -> Path:
    """Write the login atomically, readable by the user only."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = config_path()
    tmp = path.with_name(f".config.json.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask or a stale file said
        with os.fdopen(fd, "w") as fh:
            json.dump({"server": normalise_server(server), "token": token}, fh, indent=2)
            fh.write("\n")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return path


def remove() -> bool:
    """Forget the stored login; True if there was one."""
    path = config_path()
    if path.exists():
        path.unlink()
        return True
    return False
