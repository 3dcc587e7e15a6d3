"""Registration and profile rules. Identity always comes from the verified token."""

from __future__ import annotations

import time

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..auth.tokens import Claims
from ..common.models import utcnow
from ..errors import Forbidden, ServiceUnavailable
from ..models import DOCUMENTS
from .models import User


def find_by_identity(issuer: str, subject: str) -> User | None:
    return User.objects(auth_issuer=issuer, auth_subject=subject).first()


def register(
    claims: Claims,
    *,
    oauth_id: str,
    email: str | None = None,
    username: str | None = None,
    oauth_provider: str | None = None,
) -> User:
    """The caller's user, created on the first call; every later call returns the same one.

    One atomic upsert under the unique (issuer, subject) index makes concurrent first
    calls converge on a single document; a losing racer's duplicate-key error just
    means the winner's document is there to read.
    """
    if oauth_id != claims.sub:
        raise Forbidden("oauth_id does not match the signed-in account.")
    verified_email = claims.email if claims.email and claims.email_verified else None
    now = utcnow()
    fields = {
        "email": verified_email or claims.email or email,
        "email_verified": bool(verified_email),
        "username": username,
        "oauth_provider": oauth_provider or claims.raw.get("firebase", {}).get("sign_in_provider"),
        "created_at": now,
        "updated_at": now,
    }
    collection = User._get_collection()
    query = {"auth_issuer": claims.issuer, "auth_subject": claims.sub}
    for _attempt in range(5):
        try:
            doc = collection.find_one_and_update(
                query,
                {"$setOnInsert": fields},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            doc = collection.find_one(query)
        if doc is not None:
            return User._from_son(doc)
        # The racing insert's index entry was visible a moment before its document.
        time.sleep(0.01)
    raise ServiceUnavailable(
        "Registration is busy; please try again.", headers={"Retry-After": "1"}
    )


def dev_subject(email: str) -> str:
    """The token subject `flask auth token` uses for an email (and the CLI's users get)."""
    return "dev-" + email.strip().lower().replace("@", "-at-")


def find_or_create_local_user(email: str) -> User:
    """The user with this email, or a new one with the identity `flask auth token` mints.

    For the command line only: a newcomer can import a file, then mint a dev token
    for the same email and see the data through the API.
    """
    from ..auth.tokens import DEV_ISSUER

    address = email.strip()
    user = User.objects(email=address).first()
    if user is not None:
        return user
    subject = dev_subject(address)
    collection = User._get_collection()
    now = utcnow()
    query = {"auth_issuer": DEV_ISSUER, "auth_subject": subject}
    collection.update_one(
        query,
        {
            "$setOnInsert": {
                "email": address,
                "email_verified": False,
                "created_at": now,
                "updated_at": now,
            }
        },
        upsert=True,
    )
    return User._from_son(collection.find_one(query))


def update_profile(user: User, changes: dict) -> User:
    for name in ("username", "full_name"):
        if name in changes:
            setattr(user, name, changes[name])
    user.touch()
    user.save()
    return user


def delete_account(user: User) -> None:
    """Delete everything the user owns, then the user: nothing of theirs stays behind."""
    for document in DOCUMENTS:
        if "owner" in document._fields:
            document._get_collection().delete_many({"owner": user.id})
    user.delete()
