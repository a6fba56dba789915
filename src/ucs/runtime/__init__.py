"""The only place the core meets asyncio: the engine that drives it in real time."""

from ucs.runtime.engine import EffectSink, Engine

__all__ = ["EffectSink", "Engine"]
