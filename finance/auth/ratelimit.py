"""Authentication-failure limiting per client IP, in a MongoDB TTL collection.

Lambda containers share nothing in memory, so the failure counts live in MongoDB
(one fixed window per IP, expired by a TTL index). Each process also remembers
which IPs it has seen exceed the limit, so a blocked client costs no database
round trip and a successful request never pays for the limiter at all.
"""

from __future__ import annotations

import datetime as dt
import math
import time

from mongoengine import DateTimeField, Document, IntField, StringField
from pymongo import ReturnDocument

from ..errors import TooManyRequests


class AuthFailure(Document):
    meta = {
        "collection": "auth_failures",
        "auto_create_index": False,
        "indexes": [{"fields": ["expires_at"], "expireAfterSeconds": 0, "name": "ttl_expires"}],
    }

    id = StringField(primary_key=True)
    count = IntField(default=0)
    expires_at = DateTimeField(required=True)


class FailureLimiter:
    _MAX_REMEMBERED = 10_000

    def __init__(self, limit: int, window: int, clock=time.time):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._blocked: dict[str, float] = {}

    def check(self, client_ip: str) -> None:
        until = self._blocked.get(client_ip)
        if until is None:
            return
        now = self.clock()
        if until <= now:
            self._blocked.pop(client_ip, None)
            return
        raise TooManyRequests(
            "Too many failed sign-in attempts from this address; try again later.",
            retry_after=max(1, math.ceil(until - now)),
        )

    def record_failure(self, client_ip: str) -> None:
        now = self.clock()
        bucket = int(now // self.window)
        window_end = (bucket + 1) * self.window
        doc = AuthFailure._get_collection().find_one_and_update(
            {"_id": f"{client_ip}|{bucket}"},
            {
                "$inc": {"count": 1},
                "$setOnInsert": {"expires_at": dt.datetime.fromtimestamp(window_end, dt.UTC)},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if doc["count"] >= self.limit:
            if len(self._blocked) >= self._MAX_REMEMBERED:
                self._blocked = {ip: t for ip, t in self._blocked.items() if t > now}
            self._blocked[client_ip] = window_end
