"""Forms of the catalog pages: an entity's YAML document, a catalog file upload."""

from django import forms
from django.conf import settings

from catalog.importing.reading import ReadRefused, parse_documents

# An entity document is a few kilobytes; an API definition inside one can be a few hundred.
MAX_DOCUMENT_CHARS = 1_000_000


class EntityDocumentForm(forms.Form):
    """The entity as YAML, and the etag of the version the editor started from (for optimistic concurrency)."""

    document = forms.CharField(
        label="Entity (YAML)",
        max_length=MAX_DOCUMENT_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"class": "form-control yaml-editor", "rows": 28, "spellcheck": "false"}),
    )
    etag = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_document(self) -> dict:
        text = self.cleaned_data["document"]
        # The import's reader: YAML 1.2 as Backstage reads it, alias bombs and non-JSON values refused.
        try:
            documents = parse_documents(text, source="edit")
        except ReadRefused as refused:
            raise forms.ValidationError(refused.problem.message, code=refused.problem.rule) from None
        if len(documents) != 1:
            raise forms.ValidationError(
                f"Write exactly one entity here, not {len(documents)}; import a file to change several.",
                code="document.count",
            )
        document = documents[0][1]
        if not isinstance(document, dict):
            raise forms.ValidationError(
                "The entity must be a YAML mapping with apiVersion, kind, metadata and spec.", code="document.type"
            )
        return document


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Catalog file",
        help_text="A catalog-info.yaml: one or more entities in YAML, as Backstage reads them.",
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".yaml,.yml,.json"}),
    )
    force = forms.BooleanField(
        required=False,
        label="Orphan more than the usual share",
        help_text="Apply even if the file leaves out many of the entities an earlier upload of it created.",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.CATALOG_IMPORT_MAX_BYTES
        # Refused before reading, so a huge upload costs its transfer and no more.
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; the import limit is {limit:,} bytes.", code="source.too-large"
            )
        return upload
