"""The documents an agent may send with a reply (WhatsApp's document
messages), recognised by their content: a file name or a browser's
declared type can say anything, and the customer's phone opens what it is
told the file is.

Nothing here imports Odoo.
"""

import zipfile
from io import BytesIO
from pathlib import PurePosixPath

PDF = "application/pdf"
TEXT = "text/plain"
# Office Open XML: a zip whose first part names the application.
OOXML_PARTS = (
    (
        "word/",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (
        "ppt/",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
)
# Legacy Office files share one container (OLE2): its extension says which.
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE2_TYPES = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
}
# Control characters a text file does not hold (tab, newlines and form feed
# aside).
BINARY_BYTES = bytes(set(range(32)) - {9, 10, 12, 13})


def sniff_document(content, name=""):
    """The MIME type of a PDF, Word, Excel, PowerPoint or plain text file
    from its content (``name``'s extension tells legacy Office files
    apart), or None for anything else: an executable or an archive never
    passes for a document (a web page is sent as the text it is)."""
    content = bytes(content or b"")
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"PK\x03\x04"):
        return _ooxml_type(content)
    if content.startswith(OLE2):
        return OLE2_TYPES.get(PurePosixPath(name.lower()).suffix)
    if content and _is_text(content):
        return TEXT
    return None


def _ooxml_type(content):
    try:
        names = zipfile.ZipFile(BytesIO(content)).namelist()
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    return next(
        (
            mimetype
            for prefix, mimetype in OOXML_PARTS
            if any(part.startswith(prefix) for part in names)
        ),
        None,
    )


def _is_text(content):
    if any(byte in BINARY_BYTES for byte in content[:4096]):
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
