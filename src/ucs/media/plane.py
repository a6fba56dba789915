"""Which media plane a server gets from its settings (``--media``)."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine as SqlEngine

from ucs.media.conductor import Conductor
from ucs.media.janus_config import JanusConfig
from ucs.media.recorder import Recorder
from ucs.media.relay import Relay, RelayConfig, relay_installed
from ucs.media.sounds import Sounds
from ucs.media.supervisor import Supervisor, janus_installed
from ucs.runtime.engine import Engine
from ucs.switch.simulated import SimulatedSwitch

if TYPE_CHECKING:
    from ucs.web.server import Settings

__all__ = ["MEDIA_CHOICES", "media_plane", "recordings_folder", "sounds_folder"]

log = logging.getLogger("ucs.media")

MEDIA_CHOICES = ("auto", "janus", "off")
RELAY_CHOICES = ("auto", "keys", "off")


def sounds_folder(settings: Settings) -> Path:
    """``settings.sounds_dir``, else ``ucs-sounds`` beside the SQLite file, else here."""
    if settings.sounds_dir:
        return Path(settings.sounds_dir)
    if settings.db.startswith("sqlite:///") and settings.db != "sqlite:///:memory:":
        return Path(settings.db.removeprefix("sqlite:///")).resolve().parent / "ucs-sounds"
    return Path("ucs-sounds").resolve()


def recordings_folder(settings: Settings) -> Path:
    """``settings.recordings_dir``, else ``ucs-recordings`` beside the SQLite file, else here."""
    if settings.recordings_dir:
        return Path(settings.recordings_dir)
    if settings.db.startswith("sqlite:///") and settings.db != "sqlite:///:memory:":
        return Path(settings.db.removeprefix("sqlite:///")).resolve().parent / "ucs-recordings"
    return Path("ucs-recordings").resolve()


def media_plane(
    settings: Settings, engine: Engine, switch: SimulatedSwitch, database: SqlEngine
) -> Conductor:
    """The conductor, with a Janus supervisor when media is on and Janus can run here."""
    sounds = Sounds(sounds_folder(settings))
    recorder = Recorder(recordings_folder(settings), lambda: database)
    keep = settings.recording_retention_days
    if settings.media not in MEDIA_CHOICES:
        raise ValueError(f"--media must be one of {', '.join(MEDIA_CHOICES)}: {settings.media!r}")
    if settings.media_relay not in RELAY_CHOICES:
        raise ValueError(f"--media-relay must be auto, keys or off: {settings.media_relay!r}")
    use = settings.media != "off"
    phones = settings.switch == "sip"
    if use and not janus_installed():
        level = logging.WARNING if settings.media == "janus" else logging.INFO
        log.log(level, "janus is not installed: no media (softphone, caller audio)")
        use = False
    if not use:
        return Conductor(
            engine.submit,
            switch.caller_hangup,
            None,
            settings.media_rtp_ip,
            sounds,
            recorder,
            keep,
            phones,
        )
    runtime = Path(settings.media_dir or tempfile.mkdtemp(prefix="ucs-media-"))
    config = JanusConfig(
        runtime_dir=runtime,
        rtp_ip=settings.media_rtp_ip,
        ice_interface=settings.media_ice_interface,
        rtp_ports=settings.media_ports,
        prefix=settings.media_prefix,
    )

    def supervisor(conductor: Conductor) -> Supervisor:
        return Supervisor(
            config, conductor.engine_up, conductor.engine_down, cleanup=not settings.media_dir
        )

    relay: Callable[[Conductor], Relay] | None = None
    if phones and settings.media_relay != "off":
        if relay_installed():
            relaying = RelayConfig(
                settings.media_relay_ip or settings.media_rtp_ip,
                runtime,
                prefix=settings.media_prefix,
                # Forwarded calls have no room to record them: rtpengine records their legs.
                recordings=recorder.relay_folder if settings.media_relay == "auto" else None,
            )

            def relay(conductor: Conductor) -> Relay:
                return Relay(relaying, conductor.relay_key, conductor.relay_lost)

        else:
            log.info(
                "rtpengine is not installed: SIP legs' RFC 4733 keys are not read while their "
                "audio is in the engine (SIP INFO keys are)"
            )
    return Conductor(
        engine.submit,
        switch.caller_hangup,
        supervisor,
        settings.media_rtp_ip,
        sounds,
        recorder,
        keep,
        phones,
        relay,
        forward=settings.media_relay == "auto",
    )
