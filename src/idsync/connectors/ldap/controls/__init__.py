"""LDAP controls python-ldap does not ship: one module per control."""
