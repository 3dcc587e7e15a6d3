"""The caller of this request: verified token claims, then their user document.

Views reach the caller through :func:`current_user`; blueprints opt in with
:func:`protect`, which verifies the bearer token before any view runs.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_smorest import Blueprint

from ..errors import Forbidden, ServiceUnavailable, Unauthorized
from .ratelimit import FailureLimiter
from .tokens import AuthError, Claims, TokenVerifier, VerifierSettings


def init_app(app: Flask) -> None:
    """One verifier (and its key cache) and one failure limiter per app, built at start-up."""
    app.extensions["token_verifier"] = TokenVerifier(VerifierSettings.from_mapping(app.config))
    app.extensions["auth_limiter"] = FailureLimiter(
        limit=app.config["AUTH_FAILURE_LIMIT"], window=app.config["AUTH_FAILURE_WINDOW_SECONDS"]
    )


def authenticate() -> None:
    """Verify the bearer token (preflights excepted); failures are 401, counted per client IP."""
    if request.method == "OPTIONS":
        return
    limiter: FailureLimiter = current_app.extensions["auth_limiter"]
    client_ip = request.remote_addr or "unknown"
    limiter.check(client_ip)
    verifier: TokenVerifier = current_app.extensions["token_verifier"]
    try:
        g.claims = verifier.from_authorization_header(request.headers.get("Authorization"))
    except AuthError as exc:
        if exc.status == 503:
            raise ServiceUnavailable(exc.detail, headers={"Retry-After": "5"}) from None
        limiter.record_failure(client_ip)
        raise Unauthorized(exc.detail) from None


def current_claims() -> Claims:
    claims = g.get("claims")
    if claims is None:
        raise Unauthorized("Authentication is required.")
    return claims


def current_user():
    """The caller's user document; 403 until they have registered or on a foreign X-User-ID."""
    user = g.get("current_user")
    if user is not None:
        return user
    from ..users.service import find_by_identity

    claims = current_claims()
    user = find_by_identity(claims.issuer, claims.sub)
    if user is None:
        raise Forbidden("This account is not registered yet; call POST /api/users/register first.")
    claimed = request.headers.get("X-User-ID", "").strip()
    if claimed and claimed != str(user.id):
        raise Forbidden("X-User-ID does not match the signed-in user.")
    g.current_user = user
    g.user_id = str(user.id)
    return user


def _authenticate_and_load_user() -> None:
    authenticate()
    if request.method != "OPTIONS":
        current_user()


def protect(blueprint: Blueprint, *, load_user: bool = True) -> Blueprint:
    """Require a verified token on every view of ``blueprint`` (and the user, by default)."""
    blueprint.before_request(_authenticate_and_load_user if load_user else authenticate)
    # finance.common.blueprint documents the bearer requirement and its 401/403 from this.
    blueprint.auth = "user" if load_user else "token"
    return blueprint
