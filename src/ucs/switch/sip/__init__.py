"""Real SIP telephony (``ucs serve --switch sip``): a registrar for the phones in the database
and a back-to-back user agent for every call, on sippy. See docs/telephony.md."""

from ucs.switch.sip.switch import SipConfig, SipSwitch, parse_hostport

__all__ = ["SipConfig", "SipSwitch", "parse_hostport"]
