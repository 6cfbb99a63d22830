import importlib

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import clear_url_caches, reverse
from django.utils import timezone

from audit.models import AuditEvent
from portal.signin import SIGNED_IN_MARKER
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
WRONG = "Please enter a correct username and password."


@pytest.fixture
def maria(db):
    return UserFactory(username="maria", password="correct-horse-42")


def _sign_in(client, username, password, next_url=""):
    return client.post(LOGIN, {"username": username, "password": password, "next": next_url})


def test_the_right_password_signs_in_and_goes_to_next(client, maria):
    response = _sign_in(client, "maria", "correct-horse-42", next_url="/teams/")

    assert response.status_code == 302
    assert response["Location"] == "/teams/"
    assert client.get("/teams/").status_code == 200


@pytest.mark.parametrize(("username", "password"), [("maria", "wrong-password"), ("mario", "correct-horse-42")])
def test_a_wrong_password_or_username_gets_the_same_message(client, maria, username, password):
    response = _sign_in(client, username, password)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="login-error"' in html
    assert WRONG in html
    # Neither part is singled out.
    assert "Unknown user" not in html and "wrong password" not in html.lower()
    assert not response.wsgi_request.user.is_authenticated


def test_five_failures_lock_the_account_from_that_address_with_a_clear_page(client, maria):
    for _ in range(4):
        assert _sign_in(client, "maria", "wrong-password").status_code == 200
    fifth = _sign_in(client, "maria", "wrong-password")

    assert fifth.status_code == 429
    html = fifth.content.decode()
    assert 'data-testid="locked-out"' in html
    assert "There were 5 failed sign-in attempts for <strong>maria</strong>" in html
    assert "Try again in 15 minutes." in html

    # Even the right password is refused while locked.
    locked = _sign_in(client, "maria", "correct-horse-42")
    assert locked.status_code == 429
    assert client.get("/teams/").status_code == 302


def test_the_lock_is_per_username_and_address(client, maria):
    UserFactory(username="other", password="correct-horse-42")
    for _ in range(5):
        _sign_in(client, "maria", "wrong-password")

    assert _sign_in(client, "other", "correct-horse-42").status_code == 302
    from_elsewhere = Client(REMOTE_ADDR="10.0.0.9")
    assert _sign_in(from_elsewhere, "maria", "correct-horse-42").status_code == 302


def test_an_expired_session_goes_to_sign_in_with_next_and_says_why(client, maria):
    _sign_in(client, "maria", "correct-horse-42")
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))

    response = client.get("/teams/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/teams/"

    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="session-expired"' in page
    assert "Your session has expired. Please sign in again." in page
    assert 'name="next" value="/teams/"' in page


def test_a_short_session_cookie_age_ends_the_session(client, maria, settings):
    settings.SESSION_COOKIE_AGE = -1  # already over when it is saved
    _sign_in(client, "maria", "correct-horse-42")

    response = client.get("/teams/")
    assert response["Location"] == f"{LOGIN}?next=/teams/"
    assert "Your session has expired." in client.get(response["Location"]).content.decode()


def test_after_signing_out_there_is_no_expiry_notice(client, maria):
    _sign_in(client, "maria", "correct-horse-42")
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.cookies[SIGNED_IN_MARKER].value == ""

    page = client.get(client.get("/teams/")["Location"]).content.decode()
    assert "session has expired" not in page


def test_a_first_visit_has_no_expiry_notice(client):
    page = client.get(f"{LOGIN}?next=/teams/").content.decode()
    assert "session has expired" not in page


def test_a_csrf_failure_on_the_login_form_explains_itself(maria):
    client = Client(enforce_csrf_checks=True)
    response = _sign_in(client, "maria", "correct-horse-42")

    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="csrf-failure"' in html
    assert "The sign-in form had expired" in html
    assert f'href="{LOGIN}"' in html
    assert "_auth_user_id" not in client.session


def test_a_csrf_failure_elsewhere_says_the_change_was_not_made(maria):
    client = Client(enforce_csrf_checks=True)
    client.force_login(maria)
    response = client.post("/teams/team-x/members/add/", {"username": "maria"})

    assert response.status_code == 403
    assert "the change was not made" in response.content.decode()


def test_with_a_valid_csrf_token_the_same_client_signs_in(maria):
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN)
    token = client.cookies["csrftoken"].value
    response = client.post(LOGIN, {"username": "maria", "password": "correct-horse-42", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


# --- single sign-on button ----------------------------------------------------------------------------------


def _reload_urls():
    import portal.urls

    importlib.reload(portal.urls)
    clear_url_caches()


@pytest.fixture
def sso_configured(settings):
    original = settings.OIDC_RP_CLIENT_ID
    settings.OIDC_RP_CLIENT_ID = "meridian"
    settings.OIDC_RP_CLIENT_SECRET = "s3cret"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://idp.example/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = "https://idp.example/jwks"
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    _reload_urls()
    yield
    settings.OIDC_RP_CLIENT_ID = original
    _reload_urls()


def test_without_sso_the_login_page_has_no_sso_button(client):
    html = client.get(LOGIN).content.decode()
    assert 'data-testid="sso-button"' not in html
    assert client.get("/oidc/authenticate/").status_code == 404  # not mounted


def test_with_sso_configured_the_login_page_offers_it(client, sso_configured):
    html = client.get(f"{LOGIN}?next=/teams/").content.decode()

    assert 'data-testid="sso-button"' in html
    assert 'href="/oidc/authenticate/?next=/teams/"' in html


def test_the_sso_start_is_reachable_without_a_session_and_sends_to_the_provider(client, sso_configured):
    response = client.get("/oidc/authenticate/?next=/teams/")

    assert response.status_code == 302
    assert response["Location"].startswith("https://idp.example/authorize?")
    assert "client_id=meridian" in response["Location"]


def test_sign_in_and_sign_out_are_audited(client):
    UserFactory(username="ada", password="correct-horse-42")
    client.post("/accounts/login/", {"username": "ada", "password": "correct-horse-42"})
    client.post("/accounts/logout/")
    events = list(AuditEvent.objects.order_by("id").values_list("action", "actor_label", "source_ip"))
    assert events == [("user.sign_in", "ada", "127.0.0.1"), ("user.sign_out", "ada", "127.0.0.1")]
