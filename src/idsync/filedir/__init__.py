"""The LDIF file directory: a small directory kept in an LDIF content file, changed the way a
directory server would (the storage behind the file connector, usable without it).

* :mod:`idsync.filedir.ldif` - the RFC 2849 reader and writer;
* :mod:`idsync.filedir.dn` - DN syntax (split, normalize, RDN values);
* :mod:`idsync.filedir.directory` - :class:`FileDirectory`: locking, applying change records,
  the atomic rewrite and compaction;
* :mod:`idsync.filedir.journal` and :mod:`idsync.filedir.index` - the export journal and the
  entry index of large content files.

It imports nothing from the connectors: ``idsync.connectors.file`` is a connector over it.
"""
