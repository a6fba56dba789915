"""The ``ucs`` command."""

from __future__ import annotations

import os
import time

import typer

from ucs.core.sso import make_token

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, help="ucs: open contact-center server.")

DEMO_SSO_SECRET = "demo-sso-secret"


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", envvar="UCS_HOST"),
    port: int = typer.Option(8080, envvar="UCS_PORT"),
    db: str = typer.Option("sqlite:///ucs.db", envvar="UCS_DB"),
    demo: bool = typer.Option(False, "--demo", help="Fill an empty database with demo data."),
) -> None:
    """Start the contact-center server."""
    import uvicorn

    from ucs.web.server import Settings, build_server, create_app

    settings = Settings(
        host=host,
        port=port,
        db=db,
        demo=demo,
        sso_secret=os.environ.get("UCS_SSO_SECRET", ""),
        admin_token=os.environ.get("UCS_ADMIN_TOKEN", ""),
        region=os.environ.get("UCS_REGION", "CZ"),
        allowed_origins=tuple(
            o.strip() for o in os.environ.get("UCS_ALLOWED_ORIGINS", "").split(",") if o.strip()
        ),
    )
    server = build_server(settings)
    typer.echo(f"ucs: contact center on http://{host}:{port} (database {db})")
    if not os.environ.get("UCS_ADMIN_TOKEN"):
        typer.echo(f"ucs: admin token: {settings.admin_token}")
    uvicorn.run(create_app(server), host=host, port=port, log_level="info")


@app.command("sso-token")
def sso_token(
    username: str,
    secret: str = typer.Option(
        None, envvar="UCS_SSO_SECRET", help="The SSO secret (demo: demo-sso-secret)."
    ),
) -> None:
    """Print a valid SSO token for USERNAME (CONTRACT §4)."""
    typer.echo(
        make_token(
            secret or os.environ.get("UCS_SSO_SECRET") or DEMO_SSO_SECRET,
            username,
            int(time.time()),
        )
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
