"""Descriptor text shared by the import tests."""

from portal.actors import Actor

ACTOR = Actor.for_system("test")

# One valid Component; .format(name=...) names it.
COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: service
  lifecycle: production
  owner: team-a
"""
