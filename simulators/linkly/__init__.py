"""Local simulator of the Linkly Cloud REST API (v1), for tests and manual use."""

from .config import SimulatorConfig
from .control_client import LinklyControl
from .server import LinklySimulator, create_app

__all__ = ["LinklyControl", "LinklySimulator", "SimulatorConfig", "create_app"]
