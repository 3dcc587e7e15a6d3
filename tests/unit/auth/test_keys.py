"""Key documents: sources, parsing both shapes, cache lifetime, refresh policy, failures."""

from __future__ import annotations

import datetime as dt
import email.message
import io
import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from finance.auth import keys as keys_module
from finance.auth.keys import (
    GOOGLE_JWKS_URL,
    GOOGLE_X509_URL,
    MAX_DOCUMENT_BYTES,
    FetchedDocument,
    KeySourceUnavailable,
    KeyStore,
    UnknownKeyError,
    classify_source,
    fetch_document,
    freshness_lifetime,
    parse_key_document,
    parse_max_age,
)
from tests.support.tokens import (
    RecordingFetcher,
    public_pem,
    rsa_private_key,
    self_signed_certificate_pem,
)

# ---------------------------------------------------------------------------------------------
# Cache-Control


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # What Google actually sends for both securetoken documents.
        ("public, max-age=19845, must-revalidate, no-transform", 19845),
        ("max-age=0", 0),
        ("MAX-AGE=120", 120),
        ('max-age="60"', 60),
        ("private,max-age=30", 30),
        ("no-cache", 0),
        ("no-store, max-age=600", 0),
        ("max-age=abc", None),
        ("max-age=-5", None),
        ("public", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_max_age(value, expected):
    assert parse_max_age(value) == expected


def test_freshness_lifetime_subtracts_age_and_reads_headers_in_any_case():
    document = FetchedDocument(b"{}", {"cache-control": "max-age=600", "AGE": "100"})
    assert freshness_lifetime(document) == 500
    assert (
        freshness_lifetime(FetchedDocument(b"{}", {"Cache-Control": "max-age=60", "Age": "90"}))
        == 0
    )
    assert (
        freshness_lifetime(FetchedDocument(b"{}", {"Cache-Control": "max-age=60", "Age": "x"}))
        == 60
    )
    assert freshness_lifetime(FetchedDocument(b"{}")) is None


# ---------------------------------------------------------------------------------------------
# Sources


def test_classify_source(tmp_path):
    assert classify_source(GOOGLE_JWKS_URL) == ("https", GOOGLE_JWKS_URL)
    assert classify_source(GOOGLE_X509_URL)[0] == "https"
    assert classify_source("HTTPS://idp.example/jwks")[0] == "https"
    assert classify_source(str(tmp_path / "k.json")) == ("file", str(tmp_path / "k.json"))
    assert classify_source("keys/jwks.json") == ("file", "keys/jwks.json")
    path = tmp_path / "with space.json"
    assert classify_source(path.as_uri()) == ("file", str(path))
    assert classify_source("file://localhost/tmp/k.json") == ("file", "/tmp/k.json")


@pytest.mark.parametrize(
    "source",
    ["", "   ", "http://idp.example/jwks", "ftp://idp.example/jwks", "file://remote-host/k.json"],
)
def test_classify_source_refuses(source):
    with pytest.raises(ValueError):
        classify_source(source)


def test_keystore_fails_fast_on_a_bad_source():
    with pytest.raises(ValueError, match="https"):
        KeyStore("http://idp.example/jwks")


def test_fetch_document_reads_a_file(tmp_path, factory):
    path = factory.write_jwks(tmp_path)
    document = fetch_document(str(path), 1.0)
    assert json.loads(document.body) == factory.jwks()
    assert document.headers == {}


def test_fetch_document_missing_file(tmp_path):
    with pytest.raises(KeySourceUnavailable, match="absent"):
        fetch_document(str(tmp_path / "absent.json"), 1.0)


def test_fetch_document_oversized_file(tmp_path):
    path = tmp_path / "huge.json"
    path.write_bytes(b" " * (MAX_DOCUMENT_BYTES + 1))
    with pytest.raises(KeySourceUnavailable, match="larger"):
        fetch_document(str(path), 1.0)


class FakeResponse(io.BytesIO):
    def __init__(self, body: bytes, headers: dict[str, str], url: str, status: int = 200):
        super().__init__(body)
        self.status = status
        self.headers = email.message.Message()
        for name, value in headers.items():
            self.headers[name] = value
        self._url = url

    def geturl(self) -> str:
        return self._url


@pytest.fixture
def fake_urlopen(monkeypatch):
    """Replace urllib.request.urlopen; set ``.result`` (response or exception) per test."""

    class Opener:
        result: object = None
        calls: list = []

        def __call__(self, request, timeout):
            self.calls.append((request, timeout))
            if isinstance(self.result, BaseException):
                raise self.result
            return self.result

    opener = Opener()
    opener.calls = []
    monkeypatch.setattr(urllib.request, "urlopen", opener)
    return opener


def test_https_fetch(fake_urlopen, factory):
    body = json.dumps(factory.jwks()).encode()
    fake_urlopen.result = FakeResponse(
        body, {"Cache-Control": "public, max-age=19845", "Age": "45"}, GOOGLE_JWKS_URL
    )
    document = fetch_document(GOOGLE_JWKS_URL, 2.5)

    assert document.body == body
    assert freshness_lifetime(document) == 19800
    request, timeout = fake_urlopen.calls[0]
    assert timeout == 2.5
    assert request.full_url == GOOGLE_JWKS_URL
    assert request.get_header("Accept") == "application/json"


@pytest.mark.parametrize(
    "error",
    [
        urllib.error.HTTPError(GOOGLE_JWKS_URL, 500, "Server Error", email.message.Message(), None),
        urllib.error.URLError("Name or service not known"),
        TimeoutError("timed out"),
        ConnectionResetError(),
    ],
)
def test_https_fetch_failures(fake_urlopen, error):
    fake_urlopen.result = error
    with pytest.raises(KeySourceUnavailable):
        fetch_document(GOOGLE_JWKS_URL, 1.0)


def test_https_fetch_non_200(fake_urlopen):
    fake_urlopen.result = FakeResponse(b"{}", {}, GOOGLE_JWKS_URL, status=204)
    with pytest.raises(KeySourceUnavailable, match="204"):
        fetch_document(GOOGLE_JWKS_URL, 1.0)


def test_https_fetch_redirected_to_http(fake_urlopen):
    fake_urlopen.result = FakeResponse(b"{}", {}, "http://evil.example/jwks")
    with pytest.raises(KeySourceUnavailable, match="redirected"):
        fetch_document(GOOGLE_JWKS_URL, 1.0)


def test_https_fetch_oversized(fake_urlopen):
    fake_urlopen.result = FakeResponse(b"x" * (MAX_DOCUMENT_BYTES + 10), {}, GOOGLE_JWKS_URL)
    with pytest.raises(KeySourceUnavailable, match="larger"):
        fetch_document(GOOGLE_JWKS_URL, 1.0)


# ---------------------------------------------------------------------------------------------
# Parsing


def test_parse_jwks(factory):
    keys = parse_key_document(json.dumps(factory.jwks()).encode())
    assert set(keys) == {factory.rsa_kid, factory.ec_kid}
    assert keys[factory.rsa_kid].algorithm_name == "RS256"
    assert keys[factory.ec_kid].algorithm_name == "ES256"


def test_parse_jwks_infers_the_algorithm_when_alg_is_absent(factory):
    rsa = {k: v for k, v in factory.rsa_jwk().items() if k != "alg"}
    ec = {k: v for k, v in factory.ec_jwk().items() if k != "alg"}
    keys = parse_key_document({"keys": [rsa, ec]})
    assert keys[factory.rsa_kid].algorithm_name == "RS256"
    assert keys[factory.ec_kid].algorithm_name == "ES256"


def test_parse_jwks_skips_unusable_entries(factory):
    document = {
        "keys": [
            factory.rsa_jwk(),
            factory.rsa_jwk(kid="encryption-key", use="enc"),
            {"kty": "oct", "kid": "symmetric", "k": "c2VjcmV0"},
            {k: v for k, v in factory.ec_jwk().items() if k != "kid"},
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
            {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AAAA"},
            {**factory.rsa_jwk(kid="private"), "d": "AAAA"},
            "not-an-object",
        ]
    }
    assert set(parse_key_document(document)) == {factory.rsa_kid}


def test_parse_x509_certificate_map(factory):
    keys = parse_key_document(json.dumps(factory.x509_document()))
    assert set(keys) == {factory.rsa_kid, factory.ec_kid}
    assert keys[factory.rsa_kid].algorithm_name == "RS256"
    assert keys[factory.ec_kid].algorithm_name == "ES256"
    # The certificate's public key is the signing key's public key.
    assert (
        keys[factory.rsa_kid].key.public_numbers() == factory.rsa_key.public_key().public_numbers()
    )


def test_parse_pem_public_key_map(factory):
    document = {
        "pem-rsa": public_pem(factory.rsa_key).decode(),
        "pem-ec": public_pem(factory.ec_key).decode(),
    }
    keys = parse_key_document(document)
    assert {k: v.algorithm_name for k, v in keys.items()} == {"pem-rsa": "RS256", "pem-ec": "ES256"}


def test_parse_certificate_map_skips_garbage(factory):
    document = {
        **factory.x509_document(ec=False),
        "garbled": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
        "not-pem": "hello",
        "number": 5,
    }
    assert set(parse_key_document(document)) == {factory.rsa_kid}


@pytest.mark.parametrize(
    "document",
    [
        b"<html>502 Bad Gateway</html>",
        b"\xff\xfe\x00",
        b"[]",
        b"null",
        b'{"keys": {}}',
        b'{"keys": []}',
        b"{}",
        b'{"kid": "not a key"}',
    ],
)
def test_parse_refuses_documents_without_usable_keys(document):
    with pytest.raises(KeySourceUnavailable):
        parse_key_document(document)


# ---------------------------------------------------------------------------------------------
# KeyStore: caching by Cache-Control


def make_store(fetcher, clock, **kwargs) -> KeyStore:
    return KeyStore("https://keys.example/jwks", fetcher=fetcher, clock=clock, **kwargs)


def test_nothing_is_fetched_until_a_key_is_needed(fetcher, clock):
    store = make_store(fetcher, clock)
    assert fetcher.count == 0
    assert store.key_ids == frozenset()
    assert store.expires_at == 0


def test_cache_honours_max_age(fetcher, clock, factory):
    store = make_store(fetcher, clock)
    store.get_key(factory.rsa_kid)
    assert fetcher.calls == [("https://keys.example/jwks", 3.0)]
    assert store.expires_at == clock.now + 600

    clock.advance(599)
    store.get_key(factory.rsa_kid)
    store.get_key(factory.ec_kid)
    assert fetcher.count == 1

    clock.advance(1)
    store.get_key(factory.rsa_kid)
    assert fetcher.count == 2
    assert store.expires_at == clock.now + 600


def test_cache_follows_a_changed_max_age(fetcher, clock, factory):
    store = make_store(fetcher, clock)
    store.get_key(factory.rsa_kid)
    fetcher.headers = {"Cache-Control": "max-age=100", "Age": "40"}
    clock.advance(600)
    store.get_key(factory.rsa_kid)
    assert store.expires_at == clock.now + 60
    clock.advance(59)
    store.get_key(factory.rsa_kid)
    assert fetcher.count == 2
    clock.advance(1)
    store.get_key(factory.rsa_kid)
    assert fetcher.count == 3


def test_default_ttl_without_cache_headers(factory, clock):
    fetcher = RecordingFetcher(factory.jwks())
    store = make_store(fetcher, clock, default_ttl=120)
    store.get_key(factory.rsa_kid)
    assert store.expires_at == clock.now + 120


def test_max_age_zero_is_floored_to_the_refresh_interval(factory, clock):
    fetcher = RecordingFetcher(factory.jwks(), headers={"Cache-Control": "no-cache"})
    store = make_store(fetcher, clock, min_refresh_interval=30)
    for _ in range(10):
        store.get_key(factory.rsa_kid)
        clock.advance(1)
    assert fetcher.count == 1
    assert store.expires_at == 1_000 + 30


def test_huge_max_age_is_capped(factory, clock):
    fetcher = RecordingFetcher(factory.jwks(), headers={"Cache-Control": "max-age=31536000"})
    store = make_store(fetcher, clock, max_ttl=3600)
    store.get_key(factory.rsa_kid)
    assert store.expires_at == clock.now + 3600


# ---------------------------------------------------------------------------------------------
# KeyStore: unknown kid


def test_unknown_kid_triggers_one_refresh(fetcher, clock, factory):
    store = make_store(fetcher, clock)
    store.get_key(factory.rsa_kid)
    clock.advance(31)
    with pytest.raises(UnknownKeyError):
        store.get_key("unknown")
    assert fetcher.count == 2


def test_unknown_kid_refresh_is_rate_limited(fetcher, clock, factory):
    store = make_store(fetcher, clock, min_refresh_interval=30)
    store.get_key(factory.rsa_kid)
    for n in range(100):
        with pytest.raises(UnknownKeyError):
            store.get_key(f"spray-{n}")
        clock.advance(0.25)  # 25 s in all: still inside the interval
    assert fetcher.count == 1
    clock.advance(5)
    with pytest.raises(UnknownKeyError):
        store.get_key("spray-after")
    assert fetcher.count == 2


def test_refresh_finds_a_newly_published_key(fetcher, clock, factory):
    store = make_store(fetcher, clock)
    store.get_key(factory.rsa_kid)
    fetcher.document = {"keys": [*factory.jwks()["keys"], factory.rsa_jwk(kid="new-key")]}
    clock.advance(30)
    assert store.get_key("new-key").algorithm_name == "RS256"
    assert store.key_ids == {factory.rsa_kid, factory.ec_kid, "new-key"}


def test_explicit_refresh(fetcher, clock, factory):
    store = make_store(fetcher, clock)
    store.refresh()
    store.refresh()
    assert fetcher.count == 2
    assert store.key_ids == {factory.rsa_kid, factory.ec_kid}


# ---------------------------------------------------------------------------------------------
# KeyStore: failures


def test_first_fetch_failure_raises_and_backs_off(factory, clock):
    fetcher = RecordingFetcher(error=urllib.error.URLError("unreachable"))
    store = make_store(fetcher, clock, error_retry_interval=5)
    with pytest.raises(KeySourceUnavailable):
        store.get_key(factory.rsa_kid)
    with pytest.raises(KeySourceUnavailable):
        store.get_key(factory.rsa_kid)
    assert fetcher.count == 1  # the second call did not hammer the source

    clock.advance(5)
    fetcher.error = None
    fetcher.document = factory.jwks()
    assert store.get_key(factory.rsa_kid)
    assert fetcher.count == 2


@pytest.mark.parametrize("error", [RuntimeError("boom"), ValueError("bad"), OSError("io")])
def test_any_fetcher_exception_becomes_key_source_unavailable(factory, clock, error):
    store = make_store(RecordingFetcher(error=error), clock)
    with pytest.raises(KeySourceUnavailable) as info:
        store.get_key(factory.rsa_kid)
    assert info.value.__cause__ is error


def test_garbage_document_is_key_source_unavailable(clock, factory):
    store = make_store(RecordingFetcher(b"<html>oops</html>"), clock)
    with pytest.raises(KeySourceUnavailable):
        store.get_key(factory.rsa_kid)


def test_stale_keys_are_served_while_the_source_is_down(fetcher, clock, factory):
    store = make_store(fetcher, clock, stale_if_error=3600, error_retry_interval=5)
    store.get_key(factory.rsa_kid)
    fetcher.error = TimeoutError()

    clock.advance(600)  # expired
    assert store.get_key(factory.rsa_kid)
    assert fetcher.count == 2
    clock.advance(1)
    assert store.get_key(factory.rsa_kid)
    assert fetcher.count == 2  # backing off
    clock.advance(5)
    assert store.get_key(factory.rsa_kid)
    assert fetcher.count == 3

    clock.advance(3600)  # past expiry + stale_if_error
    with pytest.raises(KeySourceUnavailable):
        store.get_key(factory.rsa_kid)

    fetcher.error = None
    clock.advance(5)
    assert store.get_key(factory.rsa_kid)
    assert store.expires_at == clock.now + 600


def test_unknown_kid_during_an_outage_is_unknown_not_unavailable(fetcher, clock, factory):
    store = make_store(fetcher, clock)
    store.get_key(factory.rsa_kid)
    fetcher.error = TimeoutError()
    clock.advance(60)
    with pytest.raises(UnknownKeyError):
        store.get_key("unknown")
    assert fetcher.count == 2


def test_explicit_refresh_raises_even_with_stale_keys(fetcher, clock, factory):
    store = make_store(fetcher, clock)
    store.refresh()
    fetcher.error = TimeoutError()
    with pytest.raises(KeySourceUnavailable):
        store.refresh()
    assert store.get_key(factory.rsa_kid)  # the old keys are still there


# ---------------------------------------------------------------------------------------------
# KeyStore: threads and real files


def test_concurrent_cold_start_fetches_once(factory):
    calls = []
    inner = RecordingFetcher(factory.jwks(), headers={"Cache-Control": "max-age=600"})

    def slow_fetcher(source, timeout):
        calls.append(threading.get_ident())
        time.sleep(0.05)
        return inner(source, timeout)

    store = KeyStore("https://keys.example/jwks", fetcher=slow_fetcher)
    results, errors = [], []

    def worker():
        try:
            results.append(store.get_key(factory.rsa_kid))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == 16
    assert len({id(key) for key in results}) == 1
    assert len(calls) == 1


def test_real_file_source_picks_up_a_rewritten_file(tmp_path, factory, clock):
    path = factory.write_jwks(tmp_path, ec=False)
    store = KeyStore(str(path), clock=clock)
    store.get_key(factory.rsa_kid)
    factory.write_jwks(tmp_path)  # now with the EC key too
    clock.advance(30)
    assert store.get_key(factory.ec_kid).algorithm_name == "ES256"


def test_module_exports_google_urls():
    assert keys_module.GOOGLE_JWKS_URL.startswith("https://www.googleapis.com/")
    assert keys_module.GOOGLE_X509_URL.startswith("https://www.googleapis.com/")


def test_parse_certificate_map_skips_unsupported_key_types():
    ed_key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ed")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ed_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ed_key, None)  # Ed25519 signs without a separate hash
    )
    document = {
        "ed": certificate.public_bytes(serialization.Encoding.PEM).decode(),
        "ok": self_signed_certificate_pem(rsa_private_key(), "ok"),
    }
    assert set(parse_key_document(document)) == {"ok"}
