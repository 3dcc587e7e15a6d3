"""Bearer-token verification: one code path for Firebase, any OIDC provider, and local dev.

Modes (``VerifierSettings.mode``):

``firebase``
    Firebase ID tokens: RS256, ``iss = https://securetoken.google.com/<project>``,
    ``aud = <project>``, keys from Google (JWKS by default; the x509 certificate map works
    too), ``auth_time`` required and in the past. This is ``jwt`` mode with Google's values.
``jwt``
    Any OIDC provider: the issuer, audience, key source (https URL, ``file://`` URL or file
    path) and accepted algorithms (``RS256``/``ES256``) are configuration.
``dev``
    Local development only: HS256 tokens signed with a shared secret (see
    :func:`mint_dev_token`). The application refuses this mode in production.

Every rejection is an :class:`AuthError` whose ``detail`` is a sentence fit to show a user,
with ``status`` 401, or 503 when the key source cannot be reached (the token may well be
valid; we just cannot check it).

Algorithm handling: ``jwt.decode`` always gets the configured list, never the token's own
``alg``; asymmetric modes never accept an HMAC algorithm, and every key is bound to the one
algorithm it was published for, so an HS256 token "signed" with a public key is refused.

PyJWT (and through it cryptography) is imported on first use, not at import time, to keep
this module off the Lambda cold-start bill.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from finance.auth.keys import GOOGLE_JWKS_URL

if TYPE_CHECKING:
    from finance.auth.keys import Fetcher, KeyStore

MODES = ("firebase", "jwt", "dev")
#: Algorithms an asymmetric (``firebase``/``jwt``) verifier may be configured with.
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")
DEV_ALGORITHM = "HS256"
#: HS256 secrets shorter than this are refused (RFC 7518 §3.2: key >= hash output size).
DEV_SECRET_MIN_BYTES = 32
DEV_ISSUER = "kartay-finance-dev"
DEV_AUDIENCE = "kartay-finance"
DEFAULT_LEEWAY = 60
FIREBASE_ISSUER_PREFIX = "https://securetoken.google.com/"
MAX_SUB_LENGTH = 128
#: Longer Authorization values are refused before any parsing (a Firebase token is ~1 KB).
MAX_TOKEN_LENGTH = 16_384
_REQUIRED_CLAIMS = ("exp", "iat", "sub", "iss", "aud")


class AuthError(Exception):
    """A request could not be authenticated.

    ``detail`` is a human sentence (safe to return to the client); ``status`` is 401, or 503
    when the signing keys could not be obtained; ``reason`` is a short machine tag for logs
    and the ``WWW-Authenticate`` header (``invalid_request``, ``invalid_token``,
    ``temporarily_unavailable``).
    """

    def __init__(self, detail: str, status: int = 401, reason: str = "invalid_token") -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.reason = reason

    def __repr__(self) -> str:
        return f"AuthError({self.detail!r}, status={self.status})"


@dataclass(frozen=True)
class Claims:
    """The verified identity a token carries."""

    sub: str
    email: str | None
    email_verified: bool
    name: str | None
    issuer: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class VerifierSettings:
    """Everything a :class:`TokenVerifier` needs; validated on construction (``ValueError``)."""

    mode: str
    issuer: str
    audience: str
    jwks_url: str | None = None
    algorithms: tuple[str, ...] = ()  # empty: the mode's default (RS256, or HS256 for dev)
    dev_secret: str | None = field(default=None, repr=False)
    leeway: float = DEFAULT_LEEWAY

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"AUTH_MODE must be one of {', '.join(MODES)}, not {self.mode!r}.")
        if not isinstance(self.issuer, str) or not self.issuer.strip():
            raise ValueError("The token issuer (AUTH_ISSUER) must not be empty.")
        if not isinstance(self.audience, str) or not self.audience.strip():
            raise ValueError("The token audience (AUTH_AUDIENCE) must not be empty.")
        if isinstance(self.algorithms, str):
            algorithms = tuple(a.strip() for a in self.algorithms.split(",") if a.strip())
        else:
            algorithms = tuple(self.algorithms)
        if self.mode == "dev":
            if algorithms not in ((), (DEV_ALGORITHM,)):
                raise ValueError(
                    "Development tokens are always HS256 (leave AUTH_ALGORITHMS unset)."
                )
            algorithms = (DEV_ALGORITHM,)
            if not self.dev_secret:
                raise ValueError("AUTH_MODE=dev needs AUTH_DEV_SECRET.")
            if len(self.dev_secret.encode()) < DEV_SECRET_MIN_BYTES:
                raise ValueError(
                    f"AUTH_DEV_SECRET must be at least {DEV_SECRET_MIN_BYTES} bytes long."
                )
        else:
            algorithms = algorithms or ("RS256",)
            bad = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
            if bad:
                raise ValueError(
                    f"AUTH_ALGORITHMS may only contain {', '.join(ASYMMETRIC_ALGORITHMS)}; "
                    f"got {', '.join(bad)}."
                )
            if not self.jwks_url:
                raise ValueError(f"AUTH_MODE={self.mode} needs a key source (AUTH_JWKS_URL).")
            from finance.auth.keys import classify_source

            classify_source(self.jwks_url)
        leeway = float(self.leeway)
        if not math.isfinite(leeway) or not 0 <= leeway <= 600:
            raise ValueError("The clock-skew leeway must be between 0 and 600 seconds.")
        object.__setattr__(self, "algorithms", algorithms)
        object.__setattr__(self, "leeway", leeway)

    @classmethod
    def firebase(
        cls, project_id: str, jwks_url: str = GOOGLE_JWKS_URL, leeway: float = DEFAULT_LEEWAY
    ) -> VerifierSettings:
        """Google's issuer and audience for ``project_id``; keys from ``jwks_url``."""
        if not isinstance(project_id, str) or not project_id.strip():
            raise ValueError("FIREBASE_PROJECT_ID must not be empty.")
        project_id = project_id.strip()
        return cls(
            mode="firebase",
            issuer=FIREBASE_ISSUER_PREFIX + project_id,
            audience=project_id,
            jwks_url=jwks_url,
            algorithms=("RS256",),
            leeway=leeway,
        )

    @classmethod
    def dev(
        cls,
        secret: str,
        issuer: str = DEV_ISSUER,
        audience: str = DEV_AUDIENCE,
        leeway: float = DEFAULT_LEEWAY,
    ) -> VerifierSettings:
        return cls(
            mode="dev",
            issuer=issuer,
            audience=audience,
            algorithms=(DEV_ALGORITHM,),
            dev_secret=secret,
            leeway=leeway,
        )

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> VerifierSettings:
        """Read ``AUTH_*``/``FIREBASE_PROJECT_ID`` keys (a Flask config or ``os.environ``).

        ``AUTH_MODE`` (default ``firebase``); firebase: ``FIREBASE_PROJECT_ID`` and optional
        ``AUTH_JWKS_URL``; jwt: ``AUTH_JWKS_URL``, ``AUTH_ISSUER``, ``AUTH_AUDIENCE``,
        ``AUTH_ALGORITHMS`` (comma-separated or a list; default RS256); dev:
        ``AUTH_DEV_SECRET`` and optional ``AUTH_ISSUER``/``AUTH_AUDIENCE`` (``AUTH_ALGORITHMS``
        is ignored: always HS256). All modes: ``AUTH_LEEWAY_SECONDS`` (default 60).
        """

        def get(name: str) -> Any:
            value = config.get(name)
            return value.strip() if isinstance(value, str) else value

        mode = (get("AUTH_MODE") or "firebase").lower()
        leeway_value = get("AUTH_LEEWAY_SECONDS")
        try:
            leeway = DEFAULT_LEEWAY if leeway_value in (None, "") else float(leeway_value)
        except (TypeError, ValueError):
            raise ValueError(
                f"AUTH_LEEWAY_SECONDS must be a number of seconds, not {leeway_value!r}."
            ) from None
        if mode == "firebase":
            return cls.firebase(
                get("FIREBASE_PROJECT_ID") or "",
                jwks_url=get("AUTH_JWKS_URL") or GOOGLE_JWKS_URL,
                leeway=leeway,
            )
        if mode == "dev":
            return cls.dev(
                get("AUTH_DEV_SECRET") or "",
                issuer=get("AUTH_ISSUER") or DEV_ISSUER,
                audience=get("AUTH_AUDIENCE") or DEV_AUDIENCE,
                leeway=leeway,
            )
        return cls(
            mode=mode,
            issuer=get("AUTH_ISSUER") or "",
            audience=get("AUTH_AUDIENCE") or "",
            jwks_url=get("AUTH_JWKS_URL"),
            algorithms=get("AUTH_ALGORITHMS") or (),
            leeway=leeway,
        )


class TokenVerifier:
    """Verifies bearer tokens according to :class:`VerifierSettings`.

    Build it once per process (the key cache lives in it). ``key_store`` or ``fetcher`` /
    ``clock`` may be injected for tests; the ``clock`` is the key cache's monotonic clock
    (token times are checked against wall-clock time).
    """

    def __init__(
        self,
        settings: VerifierSettings,
        *,
        key_store: KeyStore | None = None,
        fetcher: Fetcher | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.settings = settings
        self._key_store: KeyStore | None = None
        if settings.mode != "dev":
            if key_store is None:
                from finance.auth.keys import KeyStore

                kwargs: dict[str, Any] = {}
                if fetcher is not None:
                    kwargs["fetcher"] = fetcher
                if clock is not None:
                    kwargs["clock"] = clock
                key_store = KeyStore(settings.jwks_url or "", **kwargs)
            self._key_store = key_store

    @property
    def key_store(self) -> KeyStore | None:
        return self._key_store

    def from_authorization_header(self, value: str | None) -> Claims:
        """Verify the token in an ``Authorization: Bearer <token>`` header value."""
        return self.verify(parse_authorization_header(value))

    def verify(self, token: str) -> Claims:
        """Verify ``token`` and return its claims, or raise :class:`AuthError`."""
        import jwt

        settings = self.settings
        if not isinstance(token, str) or not token.strip():
            raise AuthError("The sign-in token is empty.", reason="invalid_request")
        token = token.strip()
        if len(token) > MAX_TOKEN_LENGTH:
            raise AuthError("The sign-in token is too long to be valid.")

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("The sign-in token is malformed (not a JSON Web Token).") from None

        alg = header.get("alg")
        if alg not in settings.algorithms:
            expected = " or ".join(settings.algorithms)
            raise AuthError(
                f"The sign-in token uses a signing algorithm this service does not accept "
                f"(expected {expected})."
            )

        key: Any = (
            settings.dev_secret if settings.mode == "dev" else self._key_for(header.get("kid"))
        )

        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=list(settings.algorithms),
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway,
                options={
                    "require": list(_REQUIRED_CLAIMS),
                    "verify_signature": True,
                    "verify_exp": True,
                    "verify_iat": True,
                    "verify_nbf": True,
                    "verify_iss": True,
                    "verify_aud": True,
                    "verify_sub": True,
                    "strict_aud": False,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthError(_describe(exc)) from None

        return self._claims(payload)

    # -- internals ----------------------------------------------------------------------------

    def _key_for(self, kid: Any) -> Any:
        from finance.auth.keys import KeySourceUnavailable, UnknownKeyError

        if not isinstance(kid, str) or not kid:
            raise AuthError("The sign-in token does not say which key signed it (no 'kid').")
        store = self._key_store
        if store is None:  # only dev mode has no key store, and it never gets here
            raise RuntimeError("This verifier has no key store.")
        try:
            return store.get_key(kid)
        except UnknownKeyError:
            raise AuthError(
                "The sign-in token was signed with a key this service does not recognise."
            ) from None
        except KeySourceUnavailable:
            raise AuthError(
                "Sign-in tokens cannot be checked right now because the signing keys are "
                "unavailable. Please try again shortly.",
                status=503,
                reason="temporarily_unavailable",
            ) from None

    def _claims(self, payload: dict[str, Any]) -> Claims:
        settings = self.settings
        sub = payload.get("sub")
        if not isinstance(sub, str) or not sub.strip():
            raise AuthError("The sign-in token has an empty subject (sub).")
        if len(sub) > MAX_SUB_LENGTH:
            raise AuthError(
                f"The sign-in token's subject (sub) is longer than {MAX_SUB_LENGTH} characters."
            )

        now = time.time()
        iat = payload.get("iat")
        if not _is_number(iat):
            raise AuthError("The sign-in token's issue time (iat) is not a number.")
        auth_time = payload.get("auth_time")
        if auth_time is None:
            if settings.mode == "firebase":
                raise AuthError("The sign-in token lacks its authentication time (auth_time).")
        elif not _is_number(auth_time):
            raise AuthError("The sign-in token's authentication time (auth_time) is not a number.")
        elif auth_time > now + settings.leeway:
            raise AuthError("The sign-in token's authentication time (auth_time) is in the future.")

        email = payload.get("email")
        name = payload.get("name")
        return Claims(
            sub=sub,
            email=email if isinstance(email, str) and email else None,
            email_verified=payload.get("email_verified") is True,
            name=name if isinstance(name, str) and name else None,
            issuer=str(payload["iss"]),
            raw=MappingProxyType(dict(payload)),
        )


def parse_authorization_header(value: str | None) -> str:
    """The token from ``Bearer <token>`` (scheme case-insensitive, extra spaces tolerated)."""
    if value is None or not str(value).strip():
        raise AuthError(
            "The request has no Authorization header; send 'Authorization: Bearer <token>'.",
            reason="invalid_request",
        )
    if len(value) > MAX_TOKEN_LENGTH + 64:
        raise AuthError("The Authorization header is too long.", reason="invalid_request")
    parts = value.split()
    if parts[0].lower() != "bearer":
        raise AuthError(
            "The Authorization header must use the Bearer scheme: 'Authorization: Bearer <token>'.",
            reason="invalid_request",
        )
    if len(parts) == 1:
        raise AuthError(
            "The Authorization header has no token after 'Bearer'.", reason="invalid_request"
        )
    if len(parts) > 2:
        raise AuthError(
            "The Authorization header is malformed: expected 'Bearer <token>'.",
            reason="invalid_request",
        )
    return parts[1]


def mint_dev_token(
    secret: str,
    sub: str,
    email: str | None = None,
    issuer: str = DEV_ISSUER,
    audience: str = DEV_AUDIENCE,
    ttl: int = 3600,
    *,
    name: str | None = None,
    extra_claims: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> str:
    """An HS256 development token that ``AUTH_MODE=dev`` with the same values accepts."""
    import jwt

    if not secret or len(secret.encode()) < DEV_SECRET_MIN_BYTES:
        raise ValueError(f"The development secret must be at least {DEV_SECRET_MIN_BYTES} bytes.")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > MAX_SUB_LENGTH:
        raise ValueError(f"sub must be a non-empty string of at most {MAX_SUB_LENGTH} characters.")
    if ttl <= 0:
        raise ValueError("ttl must be a positive number of seconds.")
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "iat": issued,
        "auth_time": issued,
        "exp": issued + int(ttl),
    }
    if email:
        claims["email"] = email
        claims["email_verified"] = True
    if name:
        claims["name"] = name
    if extra_claims:
        claims.update(extra_claims)
    return jwt.encode(claims, secret, algorithm=DEV_ALGORITHM, headers={"typ": "JWT"})


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _describe(exc: Exception) -> str:
    """A user-facing sentence for a PyJWT exception (never echoes token contents)."""
    import jwt
    from jwt.exceptions import InvalidSubjectError

    if isinstance(exc, jwt.ExpiredSignatureError):
        return "The sign-in token has expired; sign in again."
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "The sign-in token is not valid yet (it was issued in the future)."
    if isinstance(exc, jwt.InvalidIssuedAtError):
        return "The sign-in token's issue time (iat) is not a number."
    if isinstance(exc, jwt.InvalidAudienceError):
        return "The sign-in token was issued for a different application (audience)."
    if isinstance(exc, jwt.InvalidIssuerError):
        return "The sign-in token was issued by an issuer this service does not trust."
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"The sign-in token lacks the required '{exc.claim}' claim."
    if isinstance(exc, InvalidSubjectError):
        return "The sign-in token's subject (sub) must be a non-empty string."
    if isinstance(exc, jwt.InvalidSignatureError):
        return "The sign-in token's signature is invalid."
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "The sign-in token's signing algorithm does not match its key."
    if isinstance(exc, jwt.InvalidKeyError):
        return "The sign-in token's signing key is not acceptable."
    if isinstance(exc, jwt.DecodeError):
        return "The sign-in token is malformed."
    return "The sign-in token is invalid."


__all__ = [
    "DEV_AUDIENCE",
    "DEV_ISSUER",
    "GOOGLE_JWKS_URL",
    "AuthError",
    "Claims",
    "TokenVerifier",
    "VerifierSettings",
    "mint_dev_token",
    "parse_authorization_header",
]
