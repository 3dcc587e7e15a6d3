"""Public signing keys for token verification: fetch, parse and cache a key document.

A key document is either a JWKS (``{"keys": [JWK, ...]}``, what OIDC providers and Google's
``.../service_accounts/v1/jwk/...`` endpoint publish) or a map of key id to PEM certificate
(``{kid: "-----BEGIN CERTIFICATE-----..."}``, Google's ``.../robot/v1/metadata/x509/...``
endpoint). Both become ``{kid: jwt.PyJWK}``, each key bound to the one algorithm it was
published for.

The source is an ``https://`` URL (fetched with ``urllib.request`` and a short timeout), a
``file://`` URL or a plain file path (tests and local runs). :class:`KeyStore` caches the
parsed keys for as long as the response's ``Cache-Control: max-age`` allows (minus ``Age``),
refetches at most once for a key id it does not know (rate-limited so a stream of made-up key
ids cannot make it refetch on every request), backs off after a failed fetch, and keeps using
the last good keys for a while if the source goes down. It is thread-safe; the clock and the
fetcher are injectable for tests.

Nothing heavy is imported at module import time: PyJWT, cryptography and urllib.request are
imported when a document is first fetched or parsed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jwt import PyJWK

log = logging.getLogger(__name__)

#: Google's Firebase ID-token signing keys as a JWKS (the default key source for Firebase).
GOOGLE_JWKS_URL = (
    "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com"
)
#: The same keys as a ``{kid: PEM certificate}`` map.
GOOGLE_X509_URL = (
    "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
)

#: A key document larger than this is refused (Google's is about 2 KB).
MAX_DOCUMENT_BYTES = 1_000_000

_PUBLIC_KEY_TYPES = ("RSA", "EC")


class KeySetError(Exception):
    """Base class for key-set problems."""


class KeySourceUnavailable(KeySetError):
    """The key document could not be fetched or parsed (the caller should answer 503)."""


class UnknownKeyError(KeySetError):
    """The key set, even after the allowed refresh, has no key with the requested id."""


@dataclass(frozen=True)
class FetchedDocument:
    """What a fetcher returns: the raw body and the response headers (any case)."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


#: ``fetcher(source, timeout_seconds) -> FetchedDocument``; may raise anything on failure.
Fetcher = Callable[[str, float], FetchedDocument]


# ---------------------------------------------------------------------------------------------
# Sources and fetching


def classify_source(source: str) -> tuple[str, str]:
    """Return ``("https", url)`` or ``("file", path)``; raise ``ValueError`` for anything else.

    Plain ``http://`` is refused: keys fetched in clear text could be swapped in transit.
    """
    if not isinstance(source, str) or not source.strip():
        raise ValueError("The key source (JWKS URL or file path) is empty.")
    source = source.strip()
    lowered = source.lower()
    if lowered.startswith("https://"):
        return "https", source
    if lowered.startswith("file://"):
        from urllib.parse import urlsplit
        from urllib.request import url2pathname

        parts = urlsplit(source)
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"A file:// key source must be local, not on host {parts.netloc!r}.")
        return "file", url2pathname(parts.path)
    if "://" in source:
        scheme = source.split("://", 1)[0]
        raise ValueError(
            f"The key source must be an https:// URL or a local file path, not {scheme}://."
        )
    return "file", source


def fetch_document(source: str, timeout: float) -> FetchedDocument:
    """The default fetcher: read a local file or GET an https URL (no redirects to http)."""
    kind, target = classify_source(source)
    if kind == "file":
        try:
            with open(target, "rb") as handle:
                body = handle.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            raise KeySourceUnavailable(
                f"Cannot read key file {target!r}: {exc.strerror or exc}"
            ) from exc
        _check_size(body, target)
        return FetchedDocument(body=body)
    return _fetch_https(target, timeout)


def _fetch_https(url: str, timeout: float) -> FetchedDocument:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 (the scheme is checked to be https)
        url, headers={"Accept": "application/json", "User-Agent": "kartay-finance-api"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            final_url = response.geturl()
            if not final_url.lower().startswith("https://"):
                raise KeySourceUnavailable(f"Key source {url} redirected away from https.")
            body = response.read(MAX_DOCUMENT_BYTES + 1)
            headers = dict(response.headers.items())
            status = response.status
    except urllib.error.HTTPError as exc:
        raise KeySourceUnavailable(f"Key source {url} answered HTTP {exc.code}.") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise KeySourceUnavailable(f"Key source {url} is unreachable: {reason}.") from exc
    if status != 200:
        raise KeySourceUnavailable(f"Key source {url} answered HTTP {status}.")
    _check_size(body, url)
    return FetchedDocument(body=body, headers=headers)


def _check_size(body: bytes, where: str) -> None:
    if len(body) > MAX_DOCUMENT_BYTES:
        raise KeySourceUnavailable(
            f"Key document {where} is larger than {MAX_DOCUMENT_BYTES} bytes."
        )


# ---------------------------------------------------------------------------------------------
# Cache headers


def parse_max_age(cache_control: str | None) -> int | None:
    """The freshness lifetime a ``Cache-Control`` value grants, in seconds.

    ``no-store``/``no-cache`` give 0; ``max-age=N`` gives N; no usable directive gives None
    (the caller then applies its default). Malformed values count as absent.
    """
    if not cache_control:
        return None
    max_age: int | None = None
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-store", "no-cache"):
            return 0
        if name == "max-age":
            value = value.strip().strip('"')
            if value.isdigit():
                max_age = int(value)
    return max_age


def freshness_lifetime(document: FetchedDocument) -> float | None:
    """``max-age`` minus the response's ``Age`` (time it already spent in caches), or None."""
    max_age = parse_max_age(document.header("Cache-Control"))
    if max_age is None:
        return None
    age_value = (document.header("Age") or "").strip()
    age = int(age_value) if age_value.isdigit() else 0
    return float(max(0, max_age - age))


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_key_document(document: bytes | str | Mapping[str, Any]) -> dict[str, PyJWK]:
    """Turn a JWKS or a ``{kid: PEM}`` map into ``{kid: PyJWK}``.

    Keys that are not public signing keys (``use`` other than ``sig``, symmetric ``oct``
    keys, unsupported types) or that fail to load are skipped and logged; a document with no
    usable key at all raises :class:`KeySourceUnavailable`.
    """
    if isinstance(document, (bytes, str)):
        try:
            data = json.loads(document)
        except (ValueError, UnicodeDecodeError) as exc:
            raise KeySourceUnavailable("The key document is not valid JSON.") from exc
    else:
        data = document
    if not isinstance(data, Mapping):
        raise KeySourceUnavailable("The key document is not a JSON object.")

    if "keys" in data:
        if not isinstance(data["keys"], list):
            raise KeySourceUnavailable("The key document's 'keys' member is not a list.")
        keys = _parse_jwks(data["keys"])
    else:
        keys = _parse_pem_map(data)
    if not keys:
        raise KeySourceUnavailable("The key document contains no usable signing key.")
    return keys


def _parse_jwks(entries: list[Any]) -> dict[str, PyJWK]:
    from jwt import PyJWK, PyJWTError

    keys: dict[str, PyJWK] = {}
    for index, jwk in enumerate(entries):
        if not isinstance(jwk, dict):
            log.warning("Skipping JWKS entry %d: not an object.", index)
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            log.warning("Skipping JWKS entry %d: no 'kid'.", index)
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        if jwk.get("kty") not in _PUBLIC_KEY_TYPES:
            log.warning("Skipping JWKS key %r: key type %r is not accepted.", kid, jwk.get("kty"))
            continue
        if "d" in jwk:
            log.warning("Skipping JWKS key %r: it contains private key material.", kid)
            continue
        try:
            keys[kid] = PyJWK(jwk)
        except PyJWTError as exc:
            log.warning("Skipping JWKS key %r: %s", kid, exc)
    return keys


def _parse_pem_map(data: Mapping[str, Any]) -> dict[str, PyJWK]:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from jwt import PyJWK, PyJWTError
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    keys: dict[str, PyJWK] = {}
    for kid, pem in data.items():
        if not isinstance(kid, str) or not kid or not isinstance(pem, str):
            log.warning("Skipping key-document member %r: not a PEM string.", kid)
            continue
        try:
            if "-----BEGIN CERTIFICATE-----" in pem:
                public_key: Any = x509.load_pem_x509_certificate(pem.encode()).public_key()
            elif "-----BEGIN PUBLIC KEY-----" in pem:
                public_key = load_pem_public_key(pem.encode())
            else:
                log.warning("Skipping key %r: not a PEM certificate or public key.", kid)
                continue
            if isinstance(public_key, RSAPublicKey):
                jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
            elif isinstance(public_key, EllipticCurvePublicKey):
                jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
            else:
                log.warning("Skipping key %r: unsupported public key type.", kid)
                continue
            jwk["kid"] = kid
            keys[kid] = PyJWK(jwk)
        except (ValueError, TypeError, PyJWTError) as exc:
            log.warning("Skipping key %r: %s", kid, exc)
    return keys


# ---------------------------------------------------------------------------------------------
# The cache


class KeyStore:
    """A thread-safe, lazily filled cache of one key source.

    :param source: https URL, ``file://`` URL or file path.
    :param fetcher: ``fetcher(source, timeout) -> FetchedDocument`` (default
        :func:`fetch_document`).
    :param clock: monotonic seconds (default :func:`time.monotonic`).
    :param timeout: network timeout per fetch, seconds.
    :param default_ttl: lifetime when the response carries no ``max-age`` (files never do).
    :param max_ttl: upper bound on any lifetime.
    :param min_refresh_interval: at most one refetch per this many seconds for an unknown key
        id; also the floor of the lifetime (so ``max-age=0`` cannot make us fetch per request).
    :param error_retry_interval: after a failed fetch, wait this long before trying again.
    :param stale_if_error: keep serving expired keys this long past expiry while the source
        fails.
    """

    def __init__(
        self,
        source: str,
        *,
        fetcher: Fetcher | None = None,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 3.0,
        default_ttl: float = 300.0,
        max_ttl: float = 86_400.0,
        min_refresh_interval: float = 30.0,
        error_retry_interval: float = 5.0,
        stale_if_error: float = 3_600.0,
    ) -> None:
        classify_source(source)  # fail fast on a malformed or http:// source
        self.source = source
        self._fetcher: Fetcher = fetcher or fetch_document
        self._clock = clock
        self.timeout = timeout
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl
        self.min_refresh_interval = min_refresh_interval
        self.error_retry_interval = error_retry_interval
        self.stale_if_error = stale_if_error

        self._lock = threading.Lock()
        self._keys: dict[str, PyJWK] | None = None
        self._expires_at = 0.0
        self._last_attempt: float | None = None
        self._last_error: KeySourceUnavailable | None = None

    # -- public -------------------------------------------------------------------------------

    def get_key(self, kid: str) -> PyJWK:
        """The key with id ``kid``, fetching or refreshing the document as needed.

        Performs at most one fetch per call. Raises :class:`UnknownKeyError` or
        :class:`KeySourceUnavailable`.
        """
        with self._lock:
            now = self._clock()
            fetched = False
            if self._keys is None or now >= self._expires_at:
                fetched = self._refresh_locked(now)
            keys = self._keys or {}
            key = keys.get(kid)
            if key is not None:
                return key
            if not fetched and self._may_refetch(now):
                log.info("Unknown signing key id; refreshing the key set once.")
                self._refresh_locked(now)
                key = (self._keys or {}).get(kid)
                if key is not None:
                    return key
            raise UnknownKeyError("No signing key with the token's key id.")

    def refresh(self) -> None:
        """Fetch now (e.g. to warm the cache); raises :class:`KeySourceUnavailable`."""
        with self._lock:
            now = self._clock()
            self._last_error = None  # an explicit refresh ignores the error back-off
            self._refresh_locked(now, allow_stale=False)

    @property
    def key_ids(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._keys or ())

    @property
    def expires_at(self) -> float:
        """Clock time at which the cached set goes stale (0 before the first fetch)."""
        with self._lock:
            return self._expires_at

    # -- internals (call with the lock held) --------------------------------------------------

    def _may_refetch(self, now: float) -> bool:
        return self._last_attempt is None or now - self._last_attempt >= self.min_refresh_interval

    def _stale_usable(self, now: float) -> bool:
        return self._keys is not None and now < self._expires_at + self.stale_if_error

    def _refresh_locked(self, now: float, *, allow_stale: bool = True) -> bool:
        """Fetch and replace the key set. Returns True if a fetch was attempted.

        On failure, keeps the previous keys while they are within ``stale_if_error`` (and
        returns normally); otherwise raises :class:`KeySourceUnavailable`.
        """
        if (
            self._last_error is not None
            and self._last_attempt is not None
            and now - self._last_attempt < self.error_retry_interval
        ):
            if allow_stale and self._stale_usable(now):
                return False
            raise self._last_error

        self._last_attempt = now
        try:
            document = self._fetcher(self.source, self.timeout)
            keys = parse_key_document(document.body)
        except KeySourceUnavailable as exc:
            error = exc
        except Exception as exc:  # a custom fetcher may raise anything
            error = KeySourceUnavailable(f"Fetching the key document failed: {exc!r}")
            error.__cause__ = exc
        else:
            lifetime = freshness_lifetime(document)
            ttl = self.default_ttl if lifetime is None else lifetime
            ttl = min(max(ttl, self.min_refresh_interval), self.max_ttl)
            self._keys = keys
            self._expires_at = now + ttl
            self._last_error = None
            log.info("Loaded %d signing key(s); cached for %.0f s.", len(keys), ttl)
            return True

        self._last_error = error
        if allow_stale and self._stale_usable(now):
            log.warning("Key source failed (%s); keeping the previous keys for now.", error)
            return True
        log.warning("Key source failed: %s", error)
        raise error
