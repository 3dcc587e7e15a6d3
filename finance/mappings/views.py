"""/api/mappings: the column layouts the caller's imports have learned."""

from __future__ import annotations

from ..auth.current import current_user, protect
from ..common.blueprint import Blueprint
from ..common.pagination import PageArgsSchema
from . import service
from .schemas import MappingPageSchema

blp = protect(
    Blueprint(
        "mappings",
        __name__,
        url_prefix="/api/mappings",
        description="Cached column mappings: how each file layout the caller imported maps "
        "to transaction fields.",
    )
)


@blp.route("", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, MappingPageSchema)
def list_mappings(args):
    """The caller's cached mappings, newest first (then newest id).

    Every upload of a tabular file (CSV, XLSX...) whose mapping was confirmed by a
    stored import is remembered by its header signature; the next file with the same
    layout reuses it (`mapping_source: "cache"`) without heuristics or AI.
    """
    return service.list_page(current_user().id, args["page"], args["limit"])


@blp.route("/<mapping_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, description="No cached mapping of the caller has this id.")
def delete_mapping(mapping_id):
    """Forget a cached mapping: the next file with that layout is mapped afresh."""
    service.delete(current_user().id, mapping_id)
