"""The shared statement samples and their expected transactions (../shared/samples)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "statements"


def sample_files() -> list[Path]:
    return sorted(p for p in SAMPLES.iterdir() if p.suffix not in (".json", ".md"))


def expected(path: Path) -> dict[str, Any]:
    return json.loads((path.parent / f"{path.stem}.expected.json").read_text())


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def core(tx: dict[str, Any]) -> tuple:
    """What the README's strict scoring compares on every row, as exact values."""
    return (
        str(tx["date"])[:10],
        tx["transaction_type"],
        _dec(tx["transaction_amount"]),
        tx.get("currency"),
        _dec(tx.get("fee")) or Decimal(0),
        _dec(tx.get("volume")),
        _dec(tx.get("item_price")),
    )


def security_matches(want: dict[str, Any], got: dict[str, Any]) -> bool:
    if want["transaction_type"] not in ("BUY", "SELL"):
        return True
    if want.get("asset_symbol"):
        return _norm(want["asset_symbol"]) == _norm(got.get("asset_symbol"))
    return _norm(want.get("asset_name")) == _norm(got.get("asset_name"))


def unmatched(expected_txs: list[dict], actual_txs: list[dict]) -> tuple[list, list]:
    """Pair expected and actual rows one-to-one; return what is left on each side."""
    remaining = list(actual_txs)
    missing = []
    for want in expected_txs:
        for i, got in enumerate(remaining):
            if core(want) == core(got) and security_matches(want, got):
                del remaining[i]
                break
        else:
            missing.append(want)
    return missing, remaining
