"""Telephone switches: the simulated one built in, real ones (SIP) behind the same effects."""

__all__: list[str] = []
