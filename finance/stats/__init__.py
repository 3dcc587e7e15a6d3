"""Totals kept on write, and the statistics read from them."""
