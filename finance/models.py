"""Every stored document, in one list, for index creation and account deletion."""

from __future__ import annotations

from .auth.ratelimit import AuthFailure
from .users.models import User

DOCUMENTS: list = [User, AuthFailure]
