"""The portal's icon: linked from every page, and at /favicon.ico, where browsers ask for it unprompted."""

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ICON = "/static/favicon.ico"


def test_pages_link_the_icon():
    signed_in = Client()
    signed_in.force_login(UserFactory(username="newcomer"))
    assert f'<link rel="icon" href="{ICON}"' in signed_in.get("/").content.decode()
    assert f'<link rel="icon" href="{ICON}"' in Client().get("/accounts/login/").content.decode()


def test_favicon_ico_is_the_icon_without_signing_in(settings):
    settings.WHITENOISE_USE_FINDERS = True
    client = Client()
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == ICON
    icon = client.get(ICON)
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content).startswith(b"\x00\x00\x01\x00")  # an ICO file's magic
