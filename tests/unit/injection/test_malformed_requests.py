"""Bodies, headers and file names no honest client sends: a clear 4xx, never a 500.

Every endpoint with a JSON body gets every kind of broken body: nested 10,000 levels
deep, repeated keys, bytes that are not UTF-8, NaN/Infinity, truncated or not JSON at
all, the wrong content type, no body, one larger than the request cap. Headers with
CRLF are not echoed; upload file names are reduced to a harmless base name.
"""

import io
import re

import pytest

from finance.common.blueprint import BODY_REQUIRED, INVALID_JSON, NOT_JSON
from finance.imports.models import Import
from tests.unit.injection.helpers import STATEMENT, assert_error_contract, snapshot

JSON_ENDPOINTS = [
    ("POST", "/api/users/register"),
    ("PATCH", "/api/users/me"),
    ("POST", "/api/wallets"),
    ("PATCH", "/api/wallets/{wallet}"),
    ("POST", "/api/transactions"),
    ("PATCH", "/api/transactions/{transaction}"),
    ("PATCH", "/api/transactions/errors/{error}"),
    ("POST", "/api/assets"),
    ("PATCH", "/api/assets/{asset}"),
    ("POST", "/api/assets/{asset}/prices"),
    ("POST", "/api/logs/file"),
]
DEEP = 10_000
JSON = "application/json"
# (name, body, content type, status, detail, the reason under errors.json)
BODIES = [
    ("nested-objects", b'{"a":' * DEEP + b"1" + b"}" * DEEP, JSON, 400, INVALID_JSON, "deeply"),
    ("nested-arrays", b"[" * DEEP + b"]" * DEEP, JSON, 400, INVALID_JSON, "deeply"),
    (
        "nested-in-a-field",
        b'{"logs":' + b"[" * DEEP + b"]" * DEEP + b"}",
        JSON,
        400,
        INVALID_JSON,
        "deeply",
    ),
    ("duplicate-keys", b'{"name":"a","name":"b"}', JSON, 400, INVALID_JSON, "more than once"),
    ("duplicate-nested-keys", b'{"x":{"k":1,"k":2}}', JSON, 400, INVALID_JSON, "more than once"),
    ("latin-1", b'{"name":"Caf\xe9"}', JSON, 400, INVALID_JSON, "UTF-8"),
    ("utf-16", '{"name":"x"}'.encode("utf-16"), JSON, 400, INVALID_JSON, "UTF-8"),
    ("nan", b'{"x":NaN}', JSON, 400, INVALID_JSON, "NaN is not a valid JSON number."),
    ("infinity", b'{"x":-Infinity}', JSON, 400, INVALID_JSON, "-Infinity is not a valid"),
    ("truncated", b'{"name": "x"', JSON, 400, INVALID_JSON, "Expecting"),
    ("not-json", b"name=x", JSON, 400, INVALID_JSON, "Expecting value"),
    ("trailing-data", b'{"name":"x"} {}', JSON, 400, INVALID_JSON, "Extra data"),
    ("text-plain", b'{"name":"x"}', "text/plain", 415, NOT_JSON, None),
    ("form", b"name=x", "application/x-www-form-urlencoded", 415, NOT_JSON, None),
    (
        "multipart",
        b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n',
        "multipart/form-data; boundary=b",
        415,
        NOT_JSON,
        None,
    ),
    ("xml", b"<name>x</name>", "application/xml", 415, NOT_JSON, None),
    ("no-content-type", b'{"name":"x"}', None, 415, NOT_JSON, None),
    ("empty", b"", JSON, 400, BODY_REQUIRED, "required"),
    ("only-whitespace", b" \r\n\t ", JSON, 400, BODY_REQUIRED, "required"),
    ("over-the-cap", b'{"name":"' + b"x" * 4_200_000 + b'"}', JSON, 413, None, None),
    ("an-array", b"[1, 2]", JSON, 422, None, None),
    ("a-string", b'"$where"', JSON, 422, None, None),
]


def _path(path, world):
    a = world.alice
    return path.format(wallet=a.wallet, transaction=a.transaction, error=a.error, asset=world.asset)


@pytest.mark.parametrize(
    ("method", "path"), JSON_ENDPOINTS, ids=[" ".join(e) for e in JSON_ENDPOINTS]
)
@pytest.mark.parametrize(
    ("body", "content_type", "status", "detail", "reason"),
    [case[1:] for case in BODIES],
    ids=[case[0] for case in BODIES],
)
def test_broken_json_bodies_are_a_clear_4xx_and_store_nothing(
    world, method, path, body, content_type, status, detail, reason
):
    headers = dict(world.alice.user.headers)
    if content_type:
        headers["Content-Type"] = content_type
    before = snapshot()
    response = world.client.open(_path(path, world), method=method, data=body, headers=headers)
    answer = assert_error_contract(response, status)
    if detail:
        assert answer["detail"] == detail
    if reason:
        (message,) = answer["errors"]["json"]
        assert reason in message
    assert snapshot() == before


def test_a_large_body_under_the_cap_is_validated_not_stored(world):
    before = snapshot()
    response = world.alice.user.post("/api/wallets", json={"name": "x" * 3_000_000})
    assert assert_error_contract(response, 422)["errors"] == {
        "name": ["Length must be between 1 and 100."]
    }
    logs = world.client.post("/api/logs/file", json={"logs": [{"message": "m"}] * 10_000})
    assert_error_contract(logs, 413)
    assert snapshot() == before


# ------------------------------------------------------------------------------- headers

CRLF = "\r\nSet-Cookie: session=stolen"


def _response_headers(response):
    return {name.lower(): value for name, value in response.headers.items()}


def test_crlf_in_x_request_id_is_not_echoed(world):
    response = world.client.get(
        "/api/wallets",
        headers={"Authorization": world.alice.user.headers["Authorization"]},
        environ_overrides={"HTTP_X_REQUEST_ID": "abc" + CRLF},
    )
    assert response.status_code == 200
    headers = _response_headers(response)
    assert "set-cookie" not in headers
    assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"])


def test_crlf_in_x_user_id_is_a_403_that_echoes_nothing(world):
    response = world.client.get(
        "/api/wallets",
        headers={"Authorization": world.alice.user.headers["Authorization"]},
        environ_overrides={"HTTP_X_USER_ID": world.alice.user.id + CRLF},
    )
    body = assert_error_contract(response, 403)
    assert body["detail"] == "X-User-ID does not match the signed-in user."
    assert "set-cookie" not in _response_headers(response)


def test_crlf_in_authorization_is_a_401_that_echoes_nothing(world):
    response = world.client.get(
        "/api/wallets",
        environ_overrides={"HTTP_AUTHORIZATION": world.alice.user.headers["Authorization"] + CRLF},
    )
    body = assert_error_contract(response, 401)
    assert body["detail"] == "The Authorization header is malformed: expected 'Bearer <token>'."
    headers = _response_headers(response)
    assert "set-cookie" not in headers
    assert headers["www-authenticate"] == 'Bearer realm="kartay"'


@pytest.mark.parametrize("value", ["x" * 129, "a b", "<script>", "id;drop", "é"])
def test_an_unusable_request_id_is_replaced(world, value):
    response = world.alice.user.get("/api/wallets", headers={"X-Request-ID": value})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


# ----------------------------------------------------------------------------- file names


def _multipart_upload(world, file_name: bytes):
    """The multipart body as a browser writes it, so the name reaches the parser unaltered."""
    boundary = b"KarTayBoundary"
    body = b"".join(
        (
            b"--" + boundary + b"\r\n",
            b'Content-Disposition: form-data; name="wallet_id"\r\n\r\n',
            world.alice.wallet.encode() + b"\r\n",
            b"--" + boundary + b"\r\n",
            b'Content-Disposition: form-data; name="file"; filename="' + file_name + b'"\r\n',
            b"Content-Type: text/csv\r\n\r\n",
            STATEMENT + b"\r\n",
            b"--" + boundary + b"--\r\n",
        )
    )
    headers = {
        **world.alice.user.headers,
        "Content-Type": "multipart/form-data; boundary=KarTayBoundary",
    }
    return world.client.post("/api/transactions/upload", data=body, headers=headers)


FILE_NAMES = [
    (b"../../etc/passwd", "passwd"),
    (b"/etc/passwd", "passwd"),
    (b"....//....//etc//shadow", "shadow"),
    (b"C:\\\\Windows\\\\win.ini", "win.ini"),
    (b"..\\\\..\\\\boot.ini", "boot.ini"),
    (b"statement\x00.csv.exe", "statement.csv.exe"),
    (b"a" * 10_000 + b".csv", "a" * 255),
    (b"<script>alert(1)</script>.csv", "script.csv"),
    ("evil\u202egnp.csv".encode(), "evilgnp.csv"),
    (b"%2e%2e%2fetc%2fpasswd", "%2e%2e%2fetc%2fpasswd"),
]


@pytest.mark.parametrize(("file_name", "stored"), FILE_NAMES, ids=[s[:40] for _, s in FILE_NAMES])
def test_upload_file_names_are_reduced_to_a_printable_base_name(world, file_name, stored):
    response = _multipart_upload(world, file_name)
    assert response.status_code == 200, response.json
    report = response.json["data"]
    assert report["file_name"] == stored
    assert Import.objects.get(id=report["import_id"]).file_name == stored


def test_a_file_part_without_a_readable_name_is_still_a_4xx(world):
    before = snapshot()
    response = world.alice.user.post(
        "/api/transactions/upload",
        data={"wallet_id": world.alice.wallet, "file": (io.BytesIO(b""), "empty.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (415, 422)
    assert_error_contract(response, response.status_code)
    assert snapshot() == before


def test_control_characters_in_text_are_kept_and_exported_without_a_500(world):
    """Found by the fuzzer: XLSX (XML) cannot hold U+0000-U+001F; the export leaves them out."""
    user, wallet = world.bob.user, world.bob.wallet
    text = "Bell\x07 and NUL\x00 and ESC\x1b"
    created = user.post(
        "/api/transactions",
        json={
            "wallet_id": wallet,
            "date": "2024-02-01",
            "transaction_type": "DEPOSIT",
            "transaction_amount": 1,
            "description": text,
        },
    )
    assert created.status_code == 201
    assert created.json["description"] == text
    csv = user.get(f"/api/transactions/export?wallet_id={wallet}")
    assert csv.status_code == 200 and text in csv.get_data(as_text=True)
    xlsx = user.get(f"/api/transactions/export?wallet_id={wallet}&format=xlsx")
    assert xlsx.status_code == 200

    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert "Bell and NUL and ESC" in [row[-1] for row in rows]
    assert user.delete(f"/api/transactions/{created.json['id']}").status_code == 204
