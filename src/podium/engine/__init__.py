"""Starting, watching and stopping the vLLM server from a ``LaunchPlan``.

Podium never imports vLLM: the server is a child process in the engine's Python
environment. Failures are ``EngineError`` with codes ENGINE_NOT_INSTALLED,
ENGINE_START_FAILED, ENGINE_TIMEOUT and ENGINE_CRASHED.
"""

from podium.engine.neuron_artifacts import ArtifactSlot, remove_stale
from podium.engine.server import EngineServer, check_engine_installed

__all__ = ["ArtifactSlot", "EngineServer", "check_engine_installed", "remove_stale"]
