"""Telephone switches: the simulated one built in, real ones (SIP) behind the same Protocol."""

from ucs.switch.base import Switch
from ucs.switch.simulated import SimulatedSwitch

__all__ = ["SimulatedSwitch", "Switch"]
