"""Server settings from the environment (``PODIUM_*``), via pydantic-settings.

``PODIUM_SECRET_KEY`` encrypts the Hugging Face tokens kept at rest. Outside development
the server refuses to start without one; with ``PODIUM_ENV=development`` a key is
generated once and kept in the data directory (``secret.key``, mode 0600).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from podium.errors import Code, PodiumError

SECRET_FILE = "secret.key"
MIN_SECRET_LEN = 16


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PODIUM_", extra="ignore")

    env: Literal["production", "development"] = "production"
    data_dir: Path = Path("podium-data")
    database_url: str | None = None
    secret_key: str | None = Field(default=None, repr=False)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'podium.db').resolve()}"

    def ready(self) -> Settings:
        """The data directory made and the secret key present: a copy, or PodiumError."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = self.secret_key
        if not key:
            stored = self.data_dir / SECRET_FILE
            if self.env != "development":
                raise PodiumError(
                    "PODIUM_SECRET_KEY is not set: the server needs it to encrypt the "
                    "Hugging Face tokens it keeps",
                    "set PODIUM_SECRET_KEY to a long random string (e.g. "
                    "python -c 'import secrets; print(secrets.token_urlsafe(48))'), or "
                    "PODIUM_ENV=development to generate one in the data directory",
                    code=Code.SETTINGS_INVALID,
                    details={"setting": "PODIUM_SECRET_KEY"},
                )
            if stored.exists():
                key = stored.read_text(encoding="utf-8").strip()
            else:
                key = secrets.token_urlsafe(48)
                fd = os.open(stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(key + "\n")
        if len(key) < MIN_SECRET_LEN:
            raise PodiumError(
                f"PODIUM_SECRET_KEY is too short ({len(key)} characters)",
                f"use at least {MIN_SECRET_LEN} random characters",
                code=Code.SETTINGS_INVALID,
                details={"setting": "PODIUM_SECRET_KEY"},
            )
        return self.model_copy(update={"secret_key": key})
