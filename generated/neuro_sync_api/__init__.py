"""A client library for accessing Neuromation platform jobs API (August 2019)"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
