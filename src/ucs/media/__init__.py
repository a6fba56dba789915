"""The media plane (CONTRACT §10): the audio of calls, carried by a media engine we start.

This package owns everything about audio and nothing about calls: the engine's child process
and its configuration (``supervisor``, ``janus_config``), the engine's control API
(``janus_api``), the rooms that anchor each call's audio (``janus``, behind the small ``Media``
Protocol of ``base``), the simulator's speaking callers (``rtp``, ``g711``) and the adapter that
turns what the core decided (a call answered on a softphone, a mute, a hangup) into what must be
heard (``conductor``). The core never sees audio; it learns only whether media is available
(``MediaStatus``). Design and measurements: docs/media.md.
"""

from __future__ import annotations

from ucs.media.base import Media, MediaError, NoMedia, Party

__all__ = ["Media", "MediaError", "NoMedia", "Party"]
