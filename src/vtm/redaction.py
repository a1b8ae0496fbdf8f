"""Hiding the passwords in URLs wherever VTM shows one: error messages, status answers, logs.

A tracking URI, a database URL or an FTP URL may carry credentials; MLflow and SQLAlchemy quote
the URLs they failed on. Everything VTM prints or answers goes through one of these.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# scheme://user:password@ anywhere in a text (the user part may be empty).
_PASSWORD_IN_URL = re.compile(r"(://[^/\s:@]*):[^/\s@]*@")
_SECRET_QUERY_KEYS = ("password", "secret", "token", "key")


MASK = "***"


def redact_secret(text: str, secret: str) -> str:
    """``text`` without ``secret``, wherever it stands (a server's error that echoes a login,
    say, where no URL shows it)."""
    return text.replace(secret, MASK) if secret else text


def redact_urls(text: str) -> str:
    """``text`` with the password of every URL in it hidden."""
    return _PASSWORD_IN_URL.sub(rf"\1:{MASK}@", text)


def redact_uri(uri: str) -> str:
    """``uri`` with any password (in the user part or a secret-looking query key) hidden."""
    parts = urlsplit(uri)
    # Edited in place: rebuilding with urlunsplit would turn sqlite://// into sqlite://.
    redacted = uri
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        if ":" in userinfo:
            redacted = redacted.replace(f"{userinfo}@", f"{userinfo.split(':', 1)[0]}:{MASK}@", 1)
    if parts.query:
        query = "&".join(
            f"{pair.split('=', 1)[0]}={MASK}"
            if "=" in pair and any(k in pair.split("=", 1)[0].lower() for k in _SECRET_QUERY_KEYS)
            else pair
            for pair in parts.query.split("&")
        )
        redacted = redacted.replace(f"?{parts.query}", f"?{query}", 1)
    return redacted
