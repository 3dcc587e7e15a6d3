"""Transactions and the error rows of failed imports."""
