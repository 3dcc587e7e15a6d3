"""Every stored document, in one list, for index creation and account deletion."""

from __future__ import annotations

DOCUMENTS: list = []
