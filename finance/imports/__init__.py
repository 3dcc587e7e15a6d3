"""Statement import: pure parsing stages (sniff, readers, table, mapping, values, normalise)."""
