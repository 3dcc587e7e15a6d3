"""People who use the service, identified by their verified token's issuer and subject."""
