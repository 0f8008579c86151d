"""Local Bitrix24 simulator: OAuth server, one portal's REST API, a business-process engine."""

from .config import SimConfig
from .server import Bitrix24Simulator

__all__ = ["Bitrix24Simulator", "SimConfig"]
