"""Shared building blocks: base document and queryset, pagination, schema fields."""
