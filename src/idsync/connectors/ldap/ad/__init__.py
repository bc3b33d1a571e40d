"""Active Directory quirks, kept in one place: objectGUID anchors, extended DNs, tombstones."""
