"""Active Directory, kept in one place: its flavor of the connector (objectGUID anchors, ranged
reads, DirSync or USN change detection, naming-context partitions), extended DNs."""
