"""The documents an agent may send on WhatsApp, told by their content: a
PDF, an Office file or plain text pass; an executable, an archive or an
image named like a document never do."""

import zipfile
from io import BytesIO

import pytest

from social_helpdesk.adapters.documents import OLE2, sniff_document


def _zip(*names):
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content, name, expected",
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "invoice.pdf", "application/pdf"),
        (b"%PDF-1.4 named oddly", "invoice.exe", "application/pdf"),
        (
            _zip("[Content_Types].xml", "word/document.xml"),
            "letter.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            _zip("[Content_Types].xml", "xl/workbook.xml"),
            "sheet.bin",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (OLE2 + b"\x00" * 100, "old.XLS", "application/vnd.ms-excel"),
        ("Order 12: 3 × café\r\nThanks!\n".encode(), "notes.txt", "text/plain"),
    ],
)
def test_documents_are_told_by_their_content(content, name, expected):
    assert sniff_document(content, name) == expected


@pytest.mark.parametrize(
    "content, name",
    [
        (b"MZ\x90\x00\x03\x00\x00\x00", "manual.pdf"),  # a Windows executable
        (_zip("payload.sh"), "report.docx"),  # a plain archive
        (_zip("[Content_Types].xml", "other/x.xml"), "report.docx"),
        (b"PK\x03\x04 not really a zip", "report.docx"),
        (OLE2 + b"\x00" * 100, "installer.msi"),  # OLE2, but no Office file
        (b"\x89PNG\r\n\x1a\n\x00\x00", "photo.txt"),
        (b"\xff\xfe\x00h\x00i", "utf16.txt"),  # not UTF-8
        (b"", "empty.txt"),
    ],
)
def test_anything_else_is_refused(content, name):
    assert sniff_document(content, name) is None
