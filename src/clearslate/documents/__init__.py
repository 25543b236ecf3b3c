"""Court documents and notice letters from a finished run (`clearslate documents`).

See docs/documents.md. The entry point is :func:`make_documents`.
"""

from clearslate.documents.build import DocumentsOptions, DocumentsResult, make_documents
from clearslate.documents.data import DocumentsError

__all__ = ["DocumentsError", "DocumentsOptions", "DocumentsResult", "make_documents"]
