"""Importing Backstage descriptors from files and folders, URLs and uploads (see importer.py)."""

from catalog.importing.importer import import_paths, import_upload, import_url
from catalog.importing.on_behalf import import_upload_for, may_import
from catalog.importing.report import ImportReport, LocationReport

__all__ = [
    "ImportReport",
    "LocationReport",
    "import_paths",
    "import_upload",
    "import_upload_for",
    "import_url",
    "may_import",
]
