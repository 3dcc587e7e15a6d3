"""Identity through the real app: verified tokens, registration, the profile, rate limiting."""

import time

import pytest

from finance.users.models import User
from tests.conftest import ApiUser, make_app


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def register(client, token, sub="alice-uid", **body):
    payload = {"email": "alice@example.com", "username": "alice", "oauth_provider": "google.com",
               "oauth_id": sub}
    payload.update(body)
    return client.post("/api/users/register", json=payload, headers=bearer(token))


def test_register_is_idempotent_and_returns_the_contract_fields(client, tokens):
    token = tokens.rs256(sub="alice-uid", email="alice@example.com")
    first = register(client, token)
    assert first.status_code == 200
    body = first.json
    assert body["user_id"] == body["id"]
    assert len(body["user_id"]) == 24
    assert body["email"] == "alice@example.com"
    assert body["email_verified"] is True
    assert body["username"] == "alice"
    assert body["oauth_provider"] == "google.com"
    for _ in range(3):
        again = register(client, token, username="changed")
        assert again.status_code == 200
        assert again.json["user_id"] == body["user_id"]
        assert again.json["username"] == "alice"
    assert User.objects.count() == 1


def test_verified_token_email_wins_over_the_body(client, tokens):
    token = tokens.rs256(sub="carol-uid", email="carol@verified.example")
    response = register(client, token, sub="carol-uid", email="someone-else@example.com")
    assert response.json["email"] == "carol@verified.example"


def test_unverified_token_email_is_kept_but_not_marked_verified(client, tokens):
    token = tokens.rs256(sub="dan-uid", email="dan@example.com", email_verified=False)
    response = register(client, token, sub="dan-uid", email="dan@example.com")
    assert response.json["email_verified"] is False


def test_oauth_id_must_be_the_tokens_subject(client, tokens):
    token = tokens.rs256(sub="alice-uid")
    response = register(client, token, sub="mallory-uid")
    assert response.status_code == 403
    assert response.json["detail"] == "oauth_id does not match the signed-in account."
    assert User.objects.count() == 0


def test_register_validates_its_body(client, tokens):
    token = tokens.rs256(sub="alice-uid")
    response = client.post("/api/users/register", json={"email": "not-an-email"},
                           headers=bearer(token))
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"email", "oauth_id"}
    assert isinstance(response.json["detail"], str)


def test_me_get_patch_and_delete(alice, bob):
    me = alice.get("/api/users/me")
    assert me.status_code == 200
    assert me.json["user_id"] == alice.id
    patched = alice.patch("/api/users/me", json={"username": "  ally ", "full_name": "Alice A."})
    assert patched.status_code == 200
    assert (patched.json["username"], patched.json["full_name"]) == ("ally", "Alice A.")
    blank = alice.patch("/api/users/me", json={"username": "   "})
    assert blank.status_code == 422
    assert "username" in blank.json["errors"]
    unknown = alice.patch("/api/users/me", json={"email": "x@example.com"})
    assert unknown.status_code == 422
    assert alice.delete("/api/users/me").status_code == 204
    gone = alice.get("/api/users/me")
    assert gone.status_code == 403
    assert "not registered" in gone.json["detail"]
    assert bob.get("/api/users/me").json["user_id"] == bob.id


def test_unregistered_caller_is_told_to_register(client, tokens):
    response = client.get("/api/users/me", headers=bearer(tokens.rs256(sub="new-uid")))
    assert response.status_code == 403
    assert response.json["detail"] == (
        "This account is not registered yet; call POST /api/users/register first."
    )


def test_x_user_id_must_match_the_token(alice, bob):
    response = alice.get("/api/users/me", headers={"X-User-ID": bob.id})
    assert response.status_code == 403
    assert response.json["detail"] == "X-User-ID does not match the signed-in user."
    assert alice.get("/api/users/me", headers={"X-User-ID": ""}).status_code == 200


def _cases(tokens):
    now = int(time.time())
    return {
        "missing header": None,
        "not bearer": "Basic YWxpY2U6cGFzcw==",
        "garbled": "Bearer not.a.token",
        "expired": "Bearer " + tokens.rs256(sub="alice-uid", iat=now - 7200, exp=now - 3600,
                                            auth_time=now - 7200),
        "wrong issuer": "Bearer " + tokens.rs256(sub="alice-uid", iss="https://evil.example"),
        "wrong audience": "Bearer " + tokens.rs256(sub="alice-uid", aud="someone-else"),
        "bad signature": "Bearer " + tokens.rs256(sub="alice-uid")[:-6] + "AAAAAA",
        "alg none": "Bearer " + tokens.unsigned(sub="alice-uid"),
        "hs256 confusion": "Bearer " + tokens.hmac_with_public_key(sub="alice-uid"),
        "unknown kid": "Bearer " + tokens.rs256(sub="alice-uid", kid="no-such-key"),
        "empty sub": "Bearer " + tokens.rs256(sub=""),
        "future iat": "Bearer " + tokens.rs256(sub="alice-uid", iat=now + 3600),
    }


@pytest.mark.parametrize("case", [
    "missing header", "not bearer", "garbled", "expired", "wrong issuer", "wrong audience",
    "bad signature", "alg none", "hs256 confusion", "unknown kid", "empty sub", "future iat",
])
def test_every_bad_token_is_401_with_a_clear_detail(client, tokens, case):
    header = _cases(tokens)[case]
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/users/me", headers=headers)
    assert response.status_code == 401, response.json
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["code"] == 401
    detail = response.json["detail"]
    assert isinstance(detail, str) and len(detail) > 10
    assert "Traceback" not in detail


def test_es256_tokens_verify_too(client, tokens):
    token = tokens.es256(sub="erin-uid", email="erin@example.com")
    assert register(client, token, sub="erin-uid").status_code == 200


def test_preflight_needs_no_token(client):
    response = client.options("/api/users/me", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_repeated_failures_from_one_address_are_rate_limited(auth_environ, tokens):
    app = make_app(environ=dict(auth_environ, AUTH_FAILURE_LIMIT="3",
                                AUTH_FAILURE_WINDOW_SECONDS="60"))
    client = app.test_client()
    good = tokens.rs256(sub="alice-uid")
    statuses = [client.get("/api/users/me", headers={"Authorization": "Bearer junk"}).status_code
                for _ in range(3)]
    assert statuses == [401, 401, 401]
    limited = client.get("/api/users/me", headers=bearer(good))
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "Too many failed sign-in attempts" in limited.json["detail"]
    other = client.get("/api/users/me", headers=bearer(good),
                       environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 403  # a valid but unregistered user from another address


def test_delete_me_removes_only_the_callers_data(client, tokens):
    alice = ApiUser(client, tokens, "alice-uid", "alice@example.com")
    bob = ApiUser(client, tokens, "bob-uid", "bob@example.com")
    assert alice.delete("/api/users/me").status_code == 204
    assert User.objects.count() == 1
    assert bob.get("/api/users/me").status_code == 200


def test_flask_auth_token_mints_a_dev_token_the_dev_app_accepts():
    app = make_app(environ={"AUTH_MODE": "dev"})
    result = app.test_cli_runner().invoke(args=["auth", "token", "--email", "Dev@Example.com"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    client = app.test_client()
    response = client.post(
        "/api/users/register",
        json={"oauth_id": "dev-dev-at-example.com"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.json["email"] == "Dev@Example.com"


def test_flask_auth_token_refuses_outside_dev_mode(auth_environ):
    app = make_app(environ=auth_environ)
    result = app.test_cli_runner().invoke(args=["auth", "token", "--email", "x@example.com"])
    assert result.exit_code != 0
    assert "only work with AUTH_MODE=dev" in result.output
