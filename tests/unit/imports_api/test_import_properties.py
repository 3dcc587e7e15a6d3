"""Property tests through the API: re-importing adds nothing; export → import is exact."""

import csv
import datetime as dt
import io
from decimal import Decimal

from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance.transactions.models import Transaction
from finance.wallets.models import Wallet

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
TEXT = st.text(alphabet=st.sampled_from("abcXYZ 019,;\"'=+-@é€"), min_size=1, max_size=30).filter(
    lambda s: s.strip() and not s.strip().startswith("'")
)
MONEY = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
DAYS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31))
CASH = {
    "DEPOSIT": 1,
    "WITHDRAWAL": -1,
    "INTEREST": 1,
    "FEE": -1,
    "TAX": -1,
    "TRANSFER_IN": 1,
    "TRANSFER_OUT": -1,
}


@st.composite
def rows(draw):
    kind = draw(st.sampled_from(["BUY", "SELL", "DIVIDEND", *CASH]))
    row = {
        "Date": draw(DAYS).isoformat(),
        "Type": kind,
        "Asset": "",
        "Quantity": "",
        "Price": "",
        "Fee": "0",
        "Currency": draw(st.sampled_from(["EUR", "USD", "PLN"])),
        "Description": draw(TEXT),
    }
    if kind in ("BUY", "SELL"):
        volume = draw(st.integers(min_value=1, max_value=500))
        price, fee = draw(MONEY), draw(st.sampled_from([Decimal("0"), Decimal("1.50")]))
        gross = volume * price
        amount = -(gross + fee) if kind == "BUY" else gross - fee
        row.update(
            Asset=draw(st.sampled_from(["ACME Corp", "Globex ETF", "Initech"])),
            Quantity=str(volume),
            Price=str(price),
            Fee=str(fee),
        )
    elif kind == "DIVIDEND":
        amount = draw(MONEY)
        row["Asset"] = "ACME Corp"
    else:
        amount = CASH[kind] * draw(MONEY)
    row["Net Amount"] = str(amount)
    return row


def to_csv(statement):
    out = io.StringIO()
    writer = csv.DictWriter(
        out,
        fieldnames=[
            "Date",
            "Type",
            "Asset",
            "Quantity",
            "Price",
            "Net Amount",
            "Fee",
            "Currency",
            "Description",
        ],
    )
    writer.writeheader()
    for row in statement:
        writer.writerow(
            {
                k: (("'" + v) if k in ("Description", "Asset") and v[:1] in "=+-@" else v)
                for k, v in row.items()
            }
        )
    return out.getvalue().encode()


def new_wallet(user, name):
    wallet = Wallet(owner=ObjectId(user.id), name=name)
    wallet.save()
    return str(wallet.id)


def upload(user, wallet_id, content, name="s.csv"):
    response = user.post(
        "/api/transactions/upload",
        data={"file": (io.BytesIO(content), name), "wallet_id": wallet_id},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json
    return response.json["data"]


def snapshot(wallet_id):
    fields = (
        "date",
        "transaction_type",
        "transaction_amount",
        "currency",
        "fee",
        "volume",
        "item_price",
        "asset_name",
        "description",
    )
    return sorted(
        (
            tuple(getattr(t, f) for f in fields)
            for t in Transaction.objects(wallet=ObjectId(wallet_id))
        ),
        key=repr,
    )


@SETTINGS
@given(statement=st.lists(rows(), min_size=1, max_size=25))
def test_reimporting_the_same_file_adds_nothing(alice, statement):
    wallet_id = new_wallet(alice, f"w{ObjectId()}")
    content = to_csv(statement)
    first = upload(alice, wallet_id, content)
    assert first["failed_transactions"] == []
    assert first["imported"] == len(statement)  # identical rows in one file all survive
    before = snapshot(wallet_id)
    second = upload(alice, wallet_id, content)
    assert (second["imported"], second["duplicates"]) == (0, len(statement))
    assert snapshot(wallet_id) == before
    assert Wallet.objects.get(id=wallet_id).totals.count == len(statement)


@SETTINGS
@given(statement=st.lists(rows(), min_size=1, max_size=25), fmt=st.sampled_from(["csv", "xlsx"]))
def test_export_then_import_reproduces_every_transaction(alice, statement, fmt):
    source = new_wallet(alice, f"s{ObjectId()}")
    upload(alice, source, to_csv(statement))
    exported = alice.get(f"/api/transactions/export?wallet_id={source}&format={fmt}")
    assert exported.status_code == 200
    target = new_wallet(alice, f"t{ObjectId()}")
    report = upload(alice, target, exported.data, f"export.{fmt}")
    assert report["failed_transactions"] == []
    assert snapshot(target) == snapshot(source)
    assert len(snapshot(source)) == len(statement)
