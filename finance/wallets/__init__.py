"""Wallets: a user's bank, broker and crypto accounts."""
