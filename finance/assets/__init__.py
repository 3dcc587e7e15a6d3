"""Assets (securities, funds, crypto, cash...) and their prices."""
