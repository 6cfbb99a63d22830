"""Request body parsers the API adds to DRF's."""

from rest_framework.parsers import JSONParser


class MergePatchParser(JSONParser):
    """A JSON merge patch (RFC 7396), sent with the media type the RFC registers; its body is plain JSON."""

    media_type = "application/merge-patch+json"
