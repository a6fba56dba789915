"""Janus's configuration, written at each start into a runtime directory of its own.

Only what ucs uses is loaded: the AudioBridge plugin and the WebSocket transport, which listens
on a Unix socket in that directory (mode 0700), never on a network port: nobody but this
server can talk to the engine. RTP ports, the address plain-RTP parties reach, and the
interface ICE may use come from the settings.
"""

from __future__ import annotations

import os
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from ucs.media.base import engine_command

__all__ = ["JanusConfig", "write_config"]

_LIBDIR = Path("/usr/lib") / (sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu") / "janus"
_PLUGINS = ("libjanus_audiobridge.so",)
_TRANSPORTS = ("libjanus_websockets.so",)


@dataclass(frozen=True)
class JanusConfig:
    runtime_dir: Path
    """Where the configuration, the API socket and the log go (made 0700)."""
    binary: str = "janus"
    libdir: Path = _LIBDIR
    rtp_ip: str = ""
    """The address plain-RTP parties send to (AudioBridge ``local_ip``); empty: Janus picks."""
    ice_interface: str = ""
    """The only interface (or address) ICE may use (``ice_enforce_list``); empty: any."""
    rtp_ports: str = "20000-40000"
    prefix: tuple[str, ...] = field(default=())
    """A command Janus is started under (``ip netns exec NAME``, ``taskset -c 1``…)."""

    @property
    def socket(self) -> Path:
        return self.runtime_dir / "api.sock"

    @property
    def log(self) -> Path:
        return self.runtime_dir / "janus.log"

    def command(self) -> list[str]:
        main = self.runtime_dir / "janus.jcfg"
        return [
            *engine_command(),
            *self.prefix,
            self.binary,
            f"--config={main}",
            f"--configs-folder={self.runtime_dir}",
            f"--log-file={self.log}",
            "--disable-stdout",
            "--disable-colors",
        ]


def _disabled(folder: Path, wanted: tuple[str, ...]) -> str:
    """Every module in ``folder`` but the wanted ones (Janus loads all it finds otherwise)."""
    try:
        names = sorted(p.name for p in folder.glob("*.so"))
    except OSError:
        names = []
    return ",".join(n for n in names if n not in wanted)


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(cfg: JanusConfig) -> None:
    """Write ``janus.jcfg`` and the files of the plugin and transport used (old ones go)."""
    cfg.runtime_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(cfg.runtime_dir, 0o700)
    cfg.socket.unlink(missing_ok=True)
    nat = f"ice_enforce_list = {_q(cfg.ice_interface)}" if cfg.ice_interface else ""
    main = f"""general: {{
\tconfigs_folder = {_q(str(cfg.runtime_dir))}
\tplugins_folder = {_q(str(cfg.libdir / "plugins"))}
\ttransports_folder = {_q(str(cfg.libdir / "transports"))}
\tevents_folder = {_q(str(cfg.libdir / "events"))}
\tloggers_folder = {_q(str(cfg.libdir / "loggers"))}
\tdebug_level = 4
\tsession_timeout = 60
\tprotected_folders = ["/bin", "/boot", "/dev", "/etc", "/proc", "/sbin", "/sys", "/usr"]
}}
media: {{
\trtp_port_range = {_q(cfg.rtp_ports)}
}}
nat: {{
\t{nat}
}}
plugins: {{
\tdisable = {_q(_disabled(cfg.libdir / "plugins", _PLUGINS))}
}}
transports: {{
\tdisable = {_q(_disabled(cfg.libdir / "transports", _TRANSPORTS))}
}}
events: {{
\tbroadcast = false
}}
loggers: {{
\tdisable = {_q(_disabled(cfg.libdir / "loggers", ()))}
}}
"""
    local_ip = f"local_ip = {_q(cfg.rtp_ip)}" if cfg.rtp_ip else ""
    audiobridge = f"""general: {{
\t{local_ip}
\trtp_port_range = {_q(cfg.rtp_ports)}
\tevents = false
}}
"""
    websockets = f"""general: {{
\tjson = "compact"
\tws = true
\tws_unix = {_q(str(cfg.socket))}
\twss = false
}}
admin: {{
\tadmin_ws = false
\tadmin_wss = false
}}
"""
    for name, text in (
        ("janus.jcfg", main),
        ("janus.plugin.audiobridge.jcfg", audiobridge),
        ("janus.transport.websockets.jcfg", websockets),
    ):
        path = cfg.runtime_dir / name
        path.write_text(text, encoding="utf-8")
        os.chmod(path, 0o600)
