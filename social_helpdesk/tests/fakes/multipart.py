"""Reading a multipart/form-data body as the fakes receive one; no Odoo
import."""

from email.parser import BytesParser
from email.policy import HTTP


def parse_multipart(raw, content_type):
    """``(fields, files)`` of a multipart/form-data body: text fields by
    name, and files by name as ``(filename, content type, bytes)``. Both
    empty for any other body."""
    if "multipart/form-data" not in (content_type or ""):
        return {}, {}
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields, files = {}, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = content.decode("utf-8", "replace")
        else:
            files[name] = (filename, part.get_content_type(), content)
    return fields, files
