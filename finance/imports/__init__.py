"""The statement import pipeline: sniff, table, mapping, values, normalise, dedup, store."""
