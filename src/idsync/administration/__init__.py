"""Administrator operations beside the engine: the changes an administrator makes to stored
sync rules (save, enable, disable, delete, copy, edit, install the out-of-box rules), a
configuration change previewed before it acts, export preview, configuration export/import,
database backup and restore, and the installation doctor.

Named for the work, not the people: the administrators' accounts of a web UI are another
package's concern."""
