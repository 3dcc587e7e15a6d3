"""Every stored document, in one list, for index creation and account deletion."""

from __future__ import annotations

from .assets.models import Asset, AssetPrice
from .auth.ratelimit import AuthFailure
from .imports.models import Import
from .mappings.models import MappingCache
from .stats.models import Holding, MonthlyTotal
from .transactions.models import Transaction, TransactionError
from .users.models import User
from .wallets.models import Wallet

DOCUMENTS: list = [
    User, AuthFailure, Wallet, Asset, AssetPrice, Transaction, TransactionError, Holding,
    MonthlyTotal, Import, MappingCache,
]
