"""The demo CRM's contacts and its caller-lookup endpoint (``--demo``): what a CRM answers to
``GET /demo/crm/lookup?number=…``, so that ``make run`` shows a screen pop with the caller's
company and a page of theirs to open (``crmUrl``, ``crmAutoOpen``)."""

from __future__ import annotations

from typing import Any

__all__ = ["CONTACTS", "answer", "contact"]

CONTACTS: tuple[dict[str, str], ...] = (
    {"id": "1", "name": "Jan Novák", "company": "Novák & syn", "phone": "+420601123456"},
    {"id": "2", "name": "Eva Dvořáková", "company": "Pekárna U Mostu", "phone": "+420602234567"},
    {"id": "3", "name": "Petr Svoboda", "company": "Svoboda Logistics", "phone": "+420603345678"},
    {"id": "4", "name": "Busy line (test)", "company": "—", "phone": "+420601000001"},
    {"id": "5", "name": "Nobody answers (test)", "company": "—", "phone": "+420601000002"},
    {"id": "6", "name": "Agent 2 (extension)", "company": "Acme", "phone": "1002"},
)


def contact(contact_id: str) -> dict[str, str] | None:
    return next((c for c in CONTACTS if c["id"] == contact_id), None)


def answer(number: str, base: str) -> dict[str, Any] | None:
    """The lookup's answer for a number (E.164), or None when it is no contact's; ``base`` is
    the URL the demo CRM is served under (ends with ``/``)."""
    found = next((c for c in CONTACTS if c["phone"] == number), None)
    if found is None:
        return None
    return {
        "name": found["name"],
        "external_id": f"contact-{found['id']}",
        "data": {
            "company": found["company"],
            "crmUrl": f"{base}contact.html?id={found['id']}",
        },
    }
