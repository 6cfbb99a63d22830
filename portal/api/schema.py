"""drf-spectacular extensions: how the schema describes Meridian's own API pieces."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "mrd_<prefix>_<secret>",
            "description": "An API token from Settings → API tokens, sent as `Authorization: Bearer <token>`.",
        }


class PortalAutoSchema(AutoSchema):
    """The schema of a viewset on portal.api.viewsets: it documents what the base adds to its actions."""

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        choices = self.view.sparse_field_choices()
        if choices is None:
            return parameters
        example = self.view.sparse_fields_example or ",".join(choices[:3])
        description = f"Comma-separated top-level fields to return, e.g. {example}. Default: all."
        # First, so that a viewset's own @extend_schema parameter of the same name wins.
        return [OpenApiParameter("fields", str, description=description), *parameters]
