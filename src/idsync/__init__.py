"""idsync: hybrid identity synchronization in the Azure AD Connect sync model."""

__version__ = "0.1.0"
