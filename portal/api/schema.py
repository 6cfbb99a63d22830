"""drf-spectacular extensions: how the schema describes Meridian's own API pieces."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
