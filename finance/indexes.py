"""Index creation from the documents' ``meta`` — run by migrations, never at cold start."""

from __future__ import annotations

from pymongo.database import Database

from .models import DOCUMENTS


def ensure_indexes(db: Database) -> list[str]:
    """Create, in ``db``, the indexes every document declares; return the index names.

    The specs are mongoengine's own parse of ``meta["indexes"]``, so the
    documents stay the single place where an index is declared.
    """
    created = []
    for document in DOCUMENTS:
        collection = db[document._get_collection_name()]
        for spec in document._meta.get("index_specs") or []:
            options = {k: v for k, v in spec.items() if k not in ("fields", "cls")}
            created.append(collection.create_index(spec["fields"], **options))
    return created
