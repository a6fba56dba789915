"""The page at ``/``: where each of ucs's pages is, for whoever opens the server's address
(``ucs serve`` prints it), in English or Czech (``?lang=``, else the browser's language)."""

from __future__ import annotations

from html import escape
from typing import NamedTuple

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ucs import __version__
from ucs.demo import DEMO_ADMIN_TOKEN
from ucs.runtime.tokens import token_digest

__all__ = ["language_of", "page", "router"]


class Link(NamedTuple):
    path: str
    en: tuple[str, str]
    cs: tuple[str, str]
    speaks: bool = True
    """The page speaks English and Czech: opened from here in the home page's language."""


_GROUPS: tuple[tuple[tuple[str, str], tuple[Link, ...]], ...] = (
    (
        ("Agents", "Operátoři"),
        (
            Link(
                "/operator/",
                (
                    "Agent desktop",
                    "The component on a page of its own: sign in, pair a phone "
                    "or this browser's softphone, take and make calls.",
                ),
                (
                    "Pracovní plocha operátora",
                    "Komponenta na vlastní stránce: přihlášení, "
                    "telefon nebo softphone v prohlížeči, příchozí i odchozí hovory.",
                ),
            ),
        ),
    ),
    (
        ("Supervisors", "Supervizoři"),
        (
            Link(
                "/wallboard/",
                ("Wallboard", "Every queue and agent, live, for a screen on the wall."),
                ("Nástěnka", "Všechny fronty a operátoři naživo, pro obrazovku na zdi."),
            ),
            Link(
                "/reports/",
                (
                    "Reports",
                    "Service level, abandoned calls, handle time per queue and agent; the "
                    "recordings, to play.",
                ),
                (
                    "Přehledy",
                    "Úroveň služby, opuštěné hovory, doba vyřízení po frontách a operátorech; "
                    "nahrávky k poslechu.",
                ),
            ),
        ),
    ),
    (
        ("Administrators", "Správci"),
        (
            Link(
                "/admin/",
                (
                    "Administration",
                    "Agents, phones, queues (their recording and account codes), AUX reasons, "
                    "settings, the audit log.",
                ),
                (
                    "Správa",
                    "Operátoři, telefony, fronty (nahrávání a kódy hovorů), důvody "
                    "nepřipravenosti, nastavení, záznam změn.",
                ),
            ),
            Link(
                "/api/docs",
                ("REST API", "Every route, tried in the browser (OpenAPI at /api/openapi.json)."),
                (
                    "REST API",
                    "Všechny cesty, vyzkoušené v prohlížeči (OpenAPI na /api/openapi.json).",
                ),
                speaks=False,
            ),
            Link(
                "/healthz",
                ("Health", "Whether the server and its database are well."),
                ("Stav", "Zda server a jeho databáze fungují."),
                speaks=False,
            ),
            Link(
                "/metrics",
                ("Metrics", "For Prometheus."),
                ("Metriky", "Pro Prometheus."),
                speaks=False,
            ),
        ),
    ),
)
_DEMO = Link(
    "/demo/crm/",
    (
        "Demo CRM",
        "A CRM page of another origin that embeds the component and uses its whole "
        "API; sign in with SSO as agent1.",
    ),
    (
        "Ukázkové CRM",
        "Stránka CRM z jiného původu, která vkládá komponentu a používá celé její "
        "API; přihlášení přes SSO jako agent1.",
    ),
)
_TEXT = {
    "en": {
        "title": "ucs contact center",
        "lead": "An open, self-hosted contact-center server. Where to go:",
        "demo": "Demo data",
        "accounts": "Agents agent1, agent2 and agent3, passwords agent1-pass, agent2-pass and "
        "agent3-pass; supervisor, password supervisor-pass (unless changed since).",
        "token": "The administrator's token: demo-admin-token (public: set UCS_ADMIN_TOKEN "
        "for anything but a demo).",
        "other": "Česky",
        "version": "Version",
    },
    "cs": {
        "title": "Kontaktní centrum ucs",
        "lead": "Otevřený server kontaktního centra na vlastním hardwaru. Kam dál:",
        "demo": "Ukázková data",
        "accounts": "Operátoři agent1, agent2 a agent3, hesla agent1-pass, agent2-pass a "
        "agent3-pass; supervizor supervisor, heslo supervisor-pass (pokud je nikdo nezměnil).",
        "token": "Token správce: demo-admin-token (veřejný: mimo ukázku nastavte UCS_ADMIN_TOKEN).",
        "other": "English",
        "version": "Verze",
    },
}
_STYLE = """
:root { color-scheme: light dark; --fg: #1c2430; --bg: #f6f7f9; --card: #fff; --line: #d5dae1;
  --accent: #1d5fbf; --muted: #5b6470; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e9ee; --bg: #14181e; --card: #1d232b; --line: #38424f; --accent: #6ea8ff;
    --muted: #a7b0bc; }
}
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 56rem; margin: 0 auto; padding: 1rem; }
header { display: flex; align-items: baseline; gap: 1rem; }
h1 { margin: 0 auto 0 0; font-size: 1.6rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
ul { list-style: none; margin: 0; padding: 0; display: grid; gap: .5rem;
  grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); }
li { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: .75rem 1rem; }
li a { font-weight: 600; font-size: 1.05rem; }
li p { margin: .25rem 0 0; color: var(--muted); }
a { color: var(--accent); }
a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.demo { background: var(--card); border: 1px solid var(--line);
  border-left: 4px solid var(--accent); border-radius: 8px; padding: .75rem 1rem;
  margin-top: 1.5rem; }
.demo p { margin: .25rem 0; }
footer { color: var(--muted); font-size: .9rem; }
"""


def language_of(asked: str | None, accept: str) -> str:
    """``cs`` or ``en``: the one asked (``?lang=``), else the first of the browser's languages
    that ucs speaks, else English."""
    if asked in _TEXT:
        return asked
    for part in accept.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag[:2] in _TEXT:
            return tag[:2]
    return "en"


def page(lang: str, *, demo: bool, demo_token: bool) -> str:
    """The page in ``lang``; ``demo``: the server runs the demo (its CRM page and its
    accounts are named); ``demo_token``: the administrator's token is still the demo's."""
    text = _TEXT[lang]
    other = "cs" if lang == "en" else "en"
    sections = []
    for (title_en, title_cs), links in _GROUPS:
        shown = (_DEMO, *links) if demo and title_en == "Agents" else links
        items = "".join(
            f'<li><a href="{link.path}{f"?lang={lang}" if link.speaks else ""}">'
            f"{escape(getattr(link, lang)[0])}</a>"
            f"<p>{escape(getattr(link, lang)[1])}</p></li>"
            for link in shown
        )
        title = title_en if lang == "en" else title_cs
        sections.append(f"<h2>{escape(title)}</h2><ul>{items}</ul>")
    notes = ""
    if demo:
        token = f"<p>{escape(text['token'])}</p>" if demo_token else ""
        notes = (
            f'<section class="demo" aria-label="{escape(text["demo"])}">'
            f"<p><strong>{escape(text['demo'])}.</strong> {escape(text['accounts'])}</p>"
            f"{token}</section>"
        )
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(text['title'])}</title>"
        '<link rel="icon" href="/favicon.ico" type="image/svg+xml">'
        f"<style>{_STYLE}</style></head><body>"
        f"<header><h1>{escape(text['title'])}</h1>"
        f'<a href="/?lang={other}" lang="{other}">{escape(text["other"])}</a></header>'
        f"<main><p>{escape(text['lead'])}</p>{''.join(sections)}{notes}</main>"
        f"<footer>ucs · {escape(text['version'])} {escape(__version__)}</footer>"
        "</body></html>"
    )


router = APIRouter()


@router.get("/", include_in_schema=False)
async def home(request: Request, lang: str | None = None) -> HTMLResponse:
    server = request.app.state.server
    settings = server.settings
    chosen = language_of(lang, request.headers.get("accept-language", ""))
    demo_token = settings.admin_token_digest == token_digest(DEMO_ADMIN_TOKEN)
    body = page(chosen, demo=bool(settings.demo), demo_token=demo_token)
    return HTMLResponse(body, headers={"Content-Language": chosen, "Vary": "Accept-Language"})


_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="7" fill="#1d5fbf"/>'
    '<path d="M8 17v-2a8 8 0 0 1 16 0v2" fill="none" stroke="#fff" stroke-width="2.5"/>'
    '<rect x="6" y="16" width="5" height="8" rx="2" fill="#fff"/>'
    '<rect x="21" y="16" width="5" height="8" rx="2" fill="#fff"/></svg>'
)
"""A headset: the icon of every page of the server (browsers ask ``/favicon.ico`` of each)."""


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return Response(
        _ICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )
