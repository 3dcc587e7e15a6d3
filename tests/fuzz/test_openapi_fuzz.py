"""Property-based fuzzing of every operation in the service's own OpenAPI document.

Schemathesis generates valid and invalid requests (examples, coverage and fuzzing
phases) and runs all its checks on every response: no 5xx, only documented status
codes, content types and headers, bodies matching the documented schemas, invalid
data rejected, valid data accepted, and protected operations refusing a missing
or bad token. Generation is derandomized with a fixed seed, so CI runs are stable.

A longer run: ``FUZZ_EXAMPLES=500 python -m pytest tests/fuzz -q`` (another seed:
``FUZZ_SEED=...``).
"""

import schemathesis

from finance.db import disconnect
from tests.fuzz.conftest import EXAMPLES, SEED, schema_app

# Valid data these operations may still refuse, for rules a JSON Schema cannot state.
# Each answer is the one error contract with the rule in `detail`; nothing else is let off.
BUSINESS_RULES = {
    # The sign of transaction_amount follows the type; a BUY/SELL names its asset and has
    # an amount or volume and price; the currency defaults to the wallet's (if it has one);
    # the date is from 1900-01-01 to tomorrow. PATCH validates the merged result.
    "POST /api/transactions": ["422"],
    "PATCH /api/transactions/{transaction_id}": ["422"],
    # min_amount <= max_amount and date_from <= date_to.
    "GET /api/transactions": ["422"],
    "GET /api/transactions/export": ["422"],
    # processed, unprocessed and resolved must ask for the same rows.
    "GET /api/transactions/errors": ["422"],
    # An ISIN's check digit; a symbol that upper-cases past 40 characters.
    "POST /api/assets": ["422"],
    "PATCH /api/assets/{asset_id}": ["422"],
    # At most 18 decimal places in a price.
    "POST /api/assets/{asset_id}/prices": ["422"],
    # The file must be a statement we read (415) with rows we can use (422), under the
    # size caps (413), for a wallet named by wallet_id or wallet_name (422).
    "POST /api/transactions/upload": ["413", "415", "422"],
    "POST /api/transactions/detect-currency": ["413", "415", "422"],
    # A day that matches the documented YYYY-MM-DD pattern may still not exist (2024-02-31),
    # and date_from must not come after date_to.
    "GET /api/stats/balance-history": ["422"],
}
POSITIVE = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {
            "max-examples": EXAMPLES,
            "deterministic": True,
            "database": "none",
            # Unknown query parameters are ignored by design (the web client sends extra
            # ones); unknown JSON fields are still refused and still generated.
            "allow-extra-parameters": False,
            # Every call carries a real token (the harness's headers); whether operations
            # refuse a missing or bad one is the `ignored_auth` check's job.
            "with-security-parameters": False,
        },
        "operations": [
            {
                "include-name": name,
                "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE + extra}},
            }
            for name, extra in BUSINESS_RULES.items()
        ],
    }
)

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", schema_app(), config=CONFIG)
disconnect()  # the `fuzz_app` fixture connects again for the run


@schema.parametrize()
def test_every_operation_holds_its_contract(case, seed):
    headers = seed.prepare(case)
    case.call_and_validate(headers=headers)
