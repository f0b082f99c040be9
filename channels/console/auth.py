"""Console authentication: argon2 password hashes, signed HttpOnly session cookies, CSRF tokens.

A session cookie is ``<staff id>.<expiry>.<nonce>.<signature>`` signed with the gateway's session
secret (HMAC-SHA256); the CSRF token of a session is an HMAC of its nonce, sent back by the console in
the ``X-CSRF-Token`` header (or a ``csrf_token`` form field) with every state-changing request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

SESSION_COOKIE = "tx_console"
LOGIN_CSRF_COOKIE = "tx_login_csrf"
SESSION_TTL_S = 12 * 3600
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise ValueError("the password must have at least 10 characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# A hash to verify against when the user does not exist, so both cases take the same time.
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _sign(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class Session:
    staff_id: int
    expires: int
    nonce: str

    def csrf_token(self, secret: str) -> str:
        return _sign(secret, f"csrf:{self.nonce}")


def issue_session(secret: str, staff_id: int, now: float | None = None) -> tuple[str, Session]:
    session = Session(staff_id, int((time.time() if now is None else now) + SESSION_TTL_S), secrets.token_urlsafe(16))
    body = f"{session.staff_id}.{session.expires}.{session.nonce}"
    return f"{body}.{_sign(secret, body)}", session


def read_session(secret: str, cookie: str | None, now: float | None = None) -> Session | None:
    if not cookie or cookie.count(".") != 3:
        return None
    staff_id, expires, nonce, signature = cookie.split(".")
    if not hmac.compare_digest(signature, _sign(secret, f"{staff_id}.{expires}.{nonce}")):
        return None
    if not staff_id.isdigit() or not expires.isdigit() or int(expires) < (time.time() if now is None else now):
        return None
    return Session(int(staff_id), int(expires), nonce)


def check_csrf(secret: str, session: Session, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(token or "", session.csrf_token(secret))
