"""Statement upload (contract endpoints) and imports as resources."""

from __future__ import annotations

from flask import current_app

from ..auth.current import current_user, protect
from ..common.blueprint import Blueprint
from ..common.pagination import envelope
from .schemas import (
    DetectCurrencySchema,
    DetectFormSchema,
    DryRunArgsSchema,
    ImportListArgsSchema,
    ImportPageSchema,
    ImportSchema,
    UploadFileSchema,
    UploadFormSchema,
    UploadResponseSchema,
)

blp = protect(Blueprint("imports", __name__, description="Statement import"))


def _service():
    """The import service, loaded by the first request that needs it.

    It brings the storage path and the pipeline's data classes, which a Lambda
    container serving only other requests never uses: off the cold start.
    """
    from . import service

    return service


@blp.route("/api/transactions/upload", methods=["POST"])
@blp.arguments(DryRunArgsSchema, location="query")
@blp.arguments(UploadFormSchema, location="form")
@blp.arguments(UploadFileSchema, location="files")
@blp.response(200, UploadResponseSchema)
@blp.alt_response(413, description="The file is over the upload size or row cap.")
@blp.alt_response(415, description="The bytes are not a statement format we read.")
@blp.alt_response(422, description="A statement we cannot use (no rows, no date/amount column).")
def upload(args, form, files):
    """Import a statement file (CSV/TSV/TXT, XLSX, XLS, OFX/QFX, QIF, CAMT.053, MT940).

    Rows already in the wallet (same fingerprint) are reported as duplicates, not
    stored twice; unreadable rows come back under `data.failed_transactions` and
    are kept as error rows. `?dry_run=true` stores nothing.
    """
    user = current_user()
    upload_file = files["file"]
    service = _service()
    wallet = service.resolve_wallet(user.id, form.pop("wallet_id"), form.pop("wallet_name"))
    return service.import_statement(
        user.id,
        wallet,
        upload_file.read(),
        file_name=_safe_name(upload_file.filename),
        config=current_app.config,
        overrides=form,
        dry_run=args["dry_run"],
    )


@blp.route("/api/transactions/detect-currency", methods=["POST"])
@blp.arguments(DetectFormSchema, location="form")
@blp.arguments(UploadFileSchema, location="files")
@blp.response(200, DetectCurrencySchema)
def detect_currency(form, files):
    """Whether the file states its currency; if not, the client asks the user for one."""
    user = current_user()
    wallet = _service().resolve_wallet(user.id, form["wallet_id"], form["wallet_name"])
    upload_file = files["file"]
    return _service().detect_currency(
        wallet, upload_file.read(), _safe_name(upload_file.filename), current_app.config
    )


@blp.route("/api/imports", methods=["GET"])
@blp.arguments(ImportListArgsSchema, location="query")
@blp.response(200, ImportPageSchema)
def list_imports(args):
    """The caller's imports, newest first."""
    items, total = _service().list_imports(
        current_user().id, args["wallet_id"], args["page"], args["limit"]
    )
    return envelope("imports", items, total, args["page"], args["limit"])


@blp.route("/api/imports/<objectid:import_id>", methods=["GET"])
@blp.response(200, ImportSchema)
def get_import(import_id):
    """One import: status, detected format, mapping used, counts."""
    return _service().get_import(current_user().id, import_id)


@blp.route("/api/imports/<objectid:import_id>", methods=["DELETE"])
@blp.response(204)
def undo_import(import_id):
    """Undo an import: its transactions and error rows are removed, totals move back."""
    _service().undo_import(current_user().id, import_id)


def _safe_name(name: str | None) -> str | None:
    """Keep only the base name, printable and short: it is shown back, never used as a path."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '<>"')
    return cleaned[:255] or None
