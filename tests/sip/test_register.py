"""The server is the registrar of the phones in its database (digest authentication)."""

from __future__ import annotations

import pytest

from tests.sip.conftest import SipRunning
from tests.sip.peer import Peer

pytestmark = pytest.mark.anyio


async def test_phone_registers_with_its_secret(sip_server: SipRunning) -> None:
    phone = await Peer("phone1", sip_server.sip).open()
    try:
        ok = await phone.register("phone1-secret")
        assert ok.code == 200
        assert "expires=" in (ok.get("contact") or "")
        assert sip_server.server.sip is not None and sip_server.server.sip.b2bua is not None
        where = sip_server.server.sip.b2bua.registrar.where("phone1")
        assert where is not None and where.port == phone.port
    finally:
        phone.close()


async def test_wrong_secret_and_unknown_phone_are_refused(sip_server: SipRunning) -> None:
    phone = await Peer("phone2", sip_server.sip).open()
    stranger = await Peer("phone9", sip_server.sip).open()
    try:
        assert (await phone.register("wrong")).code == 401
        assert (await stranger.register("phone9-secret")).code == 401
    finally:
        phone.close()
        stranger.close()


async def test_a_register_older_than_the_last_is_refused(sip_server: SipRunning) -> None:
    """RFC 3261 10.3: of two REGISTERs with the same Call-ID, one with a lower CSeq arriving
    late (an unregister sent before a refresh, say) must not undo the newer one."""
    assert sip_server.server.sip is not None and sip_server.server.sip.b2bua is not None
    registrar = sip_server.server.sip.b2bua.registrar
    phone = await Peer("phone1", sip_server.sip).open()
    try:
        d = phone.registration()
        d.cseq = 10
        assert (await phone.register("phone1-secret", d=d)).code == 200  # CSeq 10, then 11
        late = phone.registration()
        late.call_id, late.cseq = d.call_id, 4
        assert (await phone.register("phone1-secret", expires=0, d=late)).code == 500
        assert registrar.where("phone1") is not None
        d.cseq = 12
        assert (await phone.register("phone1-secret", expires=0, d=d)).code == 200
        assert registrar.where("phone1") is None
        other = phone.registration()  # another Call-ID: a new start, whatever its CSeq
        assert (await phone.register("phone1-secret", d=other)).code == 200
        assert registrar.where("phone1") is not None
    finally:
        phone.close()
