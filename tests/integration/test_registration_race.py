"""Concurrent first registrations against the real server create exactly one user."""

from concurrent.futures import ThreadPoolExecutor

from finance.users.models import User


def test_twenty_concurrent_first_calls_create_one_user(real_app, tokens):
    token = tokens.rs256(sub="racer-uid", email="racer@example.com")
    body = {"email": "racer@example.com", "username": "racer", "oauth_provider": "google.com",
            "oauth_id": "racer-uid"}

    def call(_):
        with real_app.test_client() as client:
            response = client.post("/api/users/register", json=body,
                                   headers={"Authorization": f"Bearer {token}"})
            return response.status_code, response.json["user_id"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(call, range(20)))
    assert {status for status, _ in results} == {200}
    assert len({user_id for _, user_id in results}) == 1
    assert User.objects(auth_subject="racer-uid").count() == 1
