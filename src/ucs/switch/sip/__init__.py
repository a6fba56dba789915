"""Real SIP telephony (``ucs serve --switch sip``): a registrar for the phones in the database
and a back-to-back user agent for every call, on sippy. See docs/telephony.md."""

from ucs.switch.sip.phones import parse_hostport
from ucs.switch.sip.switch import SipConfig, SipSwitch

__all__ = ["SipConfig", "SipSwitch", "parse_hostport"]
