"""drf-spectacular extensions: how the schema describes Meridian's own API pieces."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers


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


class ErrorSerializer(serializers.Serializer):
    """Every error's body (portal.api.exceptions); some endpoints add their own keys, e.g. `problems`."""

    detail = serializers.CharField()
    code = serializers.CharField()
    request_id = serializers.CharField()
    errors = serializers.JSONField(required=False, help_text="On a 400: field -> messages.")


# Why each error status can answer an operation, for the schema's descriptions.
_ERRORS = {
    "400": "Invalid input, or a query parameter this operation does not take.",
    "401": "No credentials, or an unknown, expired or revoked token.",
    "403": "The token lacks the scope, or you may not do this to this object.",
    "404": "No such object, or not one you may see.",
    "409": "The change conflicts with the data as it is (e.g. a name already taken).",
    "415": "A Content-Type this operation does not read.",
    "429": "Too many requests: wait for the Retry-After header's seconds.",
}
_BODY_METHODS = ("POST", "PUT", "PATCH")


class PortalAutoSchema(AutoSchema):
    """The schema of every API view: it documents what the base adds to its actions, and the errors any
    operation can answer, so that a client (and schemathesis) knows every status it may get."""

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        choices = self.view.sparse_field_choices() if hasattr(self.view, "sparse_field_choices") else None
        if choices is None:
            return parameters
        example = self.view.sparse_fields_example or ",".join(choices[:3])
        description = f"Comma-separated top-level fields to return, e.g. {example}. Default: all."
        # First, so that a viewset's own @extend_schema parameter of the same name wins.
        return [OpenApiParameter("fields", str, description=description), *parameters]

    def _get_parameters(self):
        parameters = super()._get_parameters()
        allowed = getattr(self.view, "action_params", {}).get(getattr(self.view, "action", None))
        if allowed is None:
            return parameters
        # The base refuses any other query parameter, so the schema offers only these (a filter backend
        # would otherwise list its filters on every action that answers a list, e.g. /relations/).
        return [p for p in parameters if p["in"] != "query" or p["name"] in allowed]

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body is not None:
            # Every operation of the API that reads a body refuses to go without one (an empty PATCH changes
            # nothing and is a 400 too); drf-spectacular guesses "optional" for a schema given as a dict.
            body["required"] = True
        return body

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            # A viewset's own description of a status (e.g. the catalog's problems list) wins.
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                responses[code]["description"] = _ERRORS[code]
        return dict(sorted(responses.items()))

    def _error_codes(self) -> list[str]:
        codes = ["401", "403", "429"] if self.view.get_permissions() else []
        takes_body = self.method in _BODY_METHODS
        # The base viewset refuses unknown query parameters; any body can be invalid.
        if takes_body or hasattr(self.view, "action_params"):
            codes.append("400")
        if "{" in self.path:
            codes.append("404")
        if takes_body:
            codes.append("415")
        if self.method in (*_BODY_METHODS, "DELETE") and hasattr(self.view, "action_params"):
            codes.append("409")  # the base answers an IntegrityError or ProtectedError of any write with 409
        return codes
