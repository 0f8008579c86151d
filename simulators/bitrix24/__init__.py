"""Local Bitrix24 simulator: OAuth server, one portal's REST API, a business-process engine."""

from .config import SimConfig
from .control_client import Bitrix24Control
from .server import Bitrix24Simulator

__all__ = ["Bitrix24Control", "Bitrix24Simulator", "SimConfig"]
