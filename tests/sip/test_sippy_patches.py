"""The fixes ``ucs.switch.sip.stack`` applies to sippy without editing it: those that change
how sippy writes a message must not change what it writes."""

from __future__ import annotations

import builtins
import inspect
import re
from collections.abc import Callable

import sippy.SipURL
import sippy.SipVia
from hypothesis import given
from hypothesis import strategies as st
from sippy.SipConf import MyAddress, MyPort

from ucs.switch.sip import stack


def test_the_modules_given_a_dir_of_their_own_use_it_only_to_ask_in() -> None:
    """A later sippy that lists ``dir(x)`` in one of them would get our ``in``-only object."""
    for module in stack._ASKS_DIR:
        source = inspect.getsource(module)
        calls = re.findall(r"(\S+\s+)?dir\(", source)
        assert calls, module.__name__
        assert all(before.strip() == "in" for before in calls), (module.__name__, calls)


def _as_sippy_writes(write: Callable[[], str]) -> str:
    """What ``write()`` gives with the builtin ``dir`` in every patched module."""
    for module in stack._ASKS_DIR:
        module.__dict__["dir"] = builtins.dir
    try:
        return write()
    finally:
        for module in stack._ASKS_DIR:
            module.__dict__["dir"] = stack._Attributes


_HOSTS = st.sampled_from(["127.0.0.1", "phone.example", "[::1]", "my"])
_PORTS = st.sampled_from([None, 5060, 5070, 40123, "my"])
_LOCAL = st.sampled_from([None, (("192.0.2.1", 5070), "udp"), (("192.0.2.1", 5060), "udp")])


@given(
    host=_HOSTS,
    port=_PORTS,
    user=st.one_of(st.none(), st.from_regex(r"[a-z0-9+]{1,12}", fullmatch=True)),
    transport=st.sampled_from([None, "udp", "tcp", "UDP"]),
    local=_LOCAL,
)
def test_uris_are_written_as_sippy_writes_them(
    host: str, port: int | str | None, user: str | None, transport: str | None, local: object
) -> None:
    stack.ensure_running()
    assert sippy.SipURL.__dict__["dir"] is stack._Attributes
    url = sippy.SipURL.SipURL(
        username=user,
        host=MyAddress() if host == "my" else host,
        port=MyPort(5060) if port == "my" else port,
    )
    if transport is not None:
        url.transport = transport
    assert url.localStr(local_addr=local) == _as_sippy_writes(
        lambda: url.localStr(local_addr=local)
    )


@given(text=st.sampled_from(["", "SIP/2.0/UDP 10.0.0.7:5062;branch=z9hG4bK1;rport"]), local=_LOCAL)
def test_vias_are_written_as_sippy_writes_them(text: str, local: object) -> None:
    """A Via of our own (sippy's ``my`` address, port and transport) and one parsed."""
    stack.ensure_running()
    via = sippy.SipVia.SipVia(text or None)
    if text:
        via.parse()
        via.parsed = True
    assert via.localStr(local) == _as_sippy_writes(lambda: via.localStr(local))
