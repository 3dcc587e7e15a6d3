"""Confirmed column mappings, cached per user by header signature."""
