"""ucs: an open, self-hosted contact-center server with an embeddable operator component."""

__all__ = ["__version__"]

__version__ = "0.1.0"
