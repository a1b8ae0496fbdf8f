"""The credentials of a run a cluster trains: a one-time ticket, and the token it is traded for.

The ticket travels with the Ray job (Ray shows a job's environment to anyone who can read its
API), so it is good once: the job's `vtm exec` trades it for the run's token at its start, and
after that it is worth nothing. The token is good for that run's output, heartbeat and finish
only. The store keeps SHA-256 digests of both, never either in clear.
"""

from __future__ import annotations

import hashlib
import secrets


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str | None, stored_digest: str | None) -> bool:
    """Whether ``secret`` is the one ``stored_digest`` was made from (in constant time)."""
    if not secret or not stored_digest:
        return False
    return secrets.compare_digest(digest(secret), stored_digest)
