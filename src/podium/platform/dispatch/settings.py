"""Dispatcher settings from the environment (``PODIUM_*``), beside the server's own."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DispatchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PODIUM_", extra="ignore")

    dispatcher: bool = Field(True, description="Run the dispatcher in the server (off for API tests).")
    server_url: str = Field(
        "http://127.0.0.1:8000",
        description="The URL the execute processes report to (the server's own address).",
    )
    slots: dict[str, int] = Field(
        default_factory=lambda: {"cpu": 1},
        description='Attempts run at once per target, e.g. PODIUM_SLOTS=\'{"cpu": 2}\'; a target not listed gets 1.',
    )
    heartbeat_interval_s: float = Field(5.0, description="How often an execute process heartbeats.")
    heartbeat_timeout_s: float = Field(60.0, description="Silence after which a worker is lost.")
    max_attempts: int = Field(3, description="Attempts per submission before WORKER_LOST.")
    cancel_grace_s: float = Field(10.0, description="SIGTERM -> SIGKILL delay when cancelling.")
    poll_s: float = Field(1.0, description="The dispatcher's loop period.")
    executor: Literal["local", "ray"] = Field(
        "local",
        description="Where attempts run: 'local' (child processes of the server) or 'ray' (Ray jobs on a cluster).",
    )
    ray_address: str = Field(
        "http://127.0.0.1:8265", description="The Ray dashboard's URL (job submission API), for PODIUM_EXECUTOR=ray."
    )
    ray_command: list[str] = Field(
        default_factory=lambda: ["podium"],
        description='How the Ray hosts run podium, as a JSON list, e.g. \'["/opt/podium/bin/podium"]\'.',
    )
    ray_env: dict[str, str] = Field(
        default_factory=dict,
        description='Extra environment for every Ray job, e.g. \'{"HF_HOME": "/data/hf"}\'.',
    )

    def slots_for(self, target: str) -> int:
        return int(self.slots.get(target, 1))
