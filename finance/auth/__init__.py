"""Authentication: bearer-token verification and the identity it yields.

``finance.auth.tokens`` verifies tokens (Firebase ID tokens in production, any OIDC
provider's JWTs, or locally minted HS256 development tokens) through one code path whose
issuer, audience and key source are configuration. ``finance.auth.keys`` loads and caches
the provider's public keys. This package module imports nothing on purpose: it sits on the
Lambda cold-start path.
"""
