"""RFC 2849 LDIF: a streaming reader and a writer for content and change records.

The reader works on bytes so it can report the byte offset after each record: the file
connector stores that offset as its delta watermark and resumes exactly there after a crash.
It never holds more than one record in memory.

Values come back as ``str`` when they are valid UTF-8, as ``bytes`` when they are not or when the
attribute is declared binary (by name, or by the ``;binary`` option). The writer base64-encodes
every value that is not a plain ASCII SAFE-STRING and folds lines at 76 columns.
"""

from idsync.filedir.ldif.reader import (
    RawRecord,
    iter_raw_records,
    parse_raw,
    raw_dn,
    read_ldif,
)
from idsync.filedir.ldif.records import (
    AddRecord,
    ChangeRecord,
    ContentRecord,
    Control,
    DeleteRecord,
    LdifError,
    LdifRecord,
    ModDnRecord,
    Modification,
    ModifyRecord,
    Value,
    find_key,
    get_values,
    is_attribute_description,
)
from idsync.filedir.ldif.writer import (
    FOLD_COLUMN,
    LdifWriter,
    format_attribute,
    format_record,
    write_ldif,
)

__all__ = [
    "FOLD_COLUMN", "AddRecord", "ChangeRecord", "ContentRecord", "Control", "DeleteRecord",
    "LdifError", "LdifRecord", "LdifWriter", "ModDnRecord", "Modification", "ModifyRecord",
    "RawRecord", "Value", "find_key", "format_attribute", "format_record", "get_values",
    "is_attribute_description", "iter_raw_records", "parse_raw", "raw_dn", "read_ldif",
    "write_ldif",
]
