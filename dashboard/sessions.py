"""Server-side sessions and login throttling, in a small SQLite file beside the warehouse's data.

Flask's signed cookie alone cannot be taken back: a copied cookie would work until it expires, after
logout too. So the cookie carries a random session id, and this store says whether that id is still
valid: logout revokes it, a session ends after MAX_AGE or IDLE without use, and one opened under an
older password (the account's password hash changed) is refused. The store is a file in the data
directory (shared by the dashboard's worker processes; SQLite serialises their writes), not the
warehouse: it holds no data, and the warehouse may be read-only to the dashboard.

Throttling: after FAILURES_PER_ACCOUNT wrong passwords for one account, or FAILURES_PER_ADDRESS from
one address, within WINDOW, logins for it are refused until the window has passed.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from contextlib import closing
from pathlib import Path

MAX_AGE = 12 * 3600
IDLE = 2 * 3600
WINDOW = 15 * 60
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def password_tag(password_hash: str) -> str:
    """What a session remembers of the password it was opened with (a digest of its hash)."""
    return _digest(password_hash)[:16]


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS web_session (sid TEXT PRIMARY KEY, user TEXT NOT NULL, "
                "tag TEXT NOT NULL, opened REAL NOT NULL, seen REAL NOT NULL)"
            )
            db.execute("CREATE TABLE IF NOT EXISTS login_failure (key TEXT NOT NULL, at REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS ix_login_failure_key ON login_failure (key, at)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def open(self, user: str, tag: str) -> str:
        """A new session for `user`; the id to put in the cookie (only its digest is stored)."""
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM web_session WHERE seen < ? OR opened < ?", (now - IDLE, now - MAX_AGE))
            db.execute("INSERT INTO web_session VALUES (?, ?, ?, ?, ?)", (_digest(sid), user, tag, now, now))
        return sid

    def valid(self, sid: str, user: str, tag: str) -> bool:
        now = time.time()
        with closing(self._connect()) as db, db:
            row = db.execute(
                "SELECT user, tag, opened, seen FROM web_session WHERE sid = ?", (_digest(sid),)
            ).fetchone()
            if row is None or row[0] != user or row[1] != tag or now - row[2] > MAX_AGE or now - row[3] > IDLE:
                return False
            if now - row[3] > 60:  # a write a minute at most, not one per request
                db.execute("UPDATE web_session SET seen = ? WHERE sid = ?", (now, _digest(sid)))
        return True

    def close(self, sid: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM web_session WHERE sid = ?", (_digest(sid),))

    def blocked(self, user: str, address: str) -> bool:
        since = time.time() - WINDOW
        with closing(self._connect()) as db:
            count = db.execute(
                "SELECT key, COUNT(*) FROM login_failure WHERE key IN (?, ?) AND at > ? GROUP BY key",
                (f"user:{user}", f"address:{address}", since),
            ).fetchall()
        seen = dict(count)
        return seen.get(f"user:{user}", 0) >= FAILURES_PER_ACCOUNT or seen.get(f"address:{address}", 0) >= (
            FAILURES_PER_ADDRESS
        )

    def failed(self, user: str, address: str) -> None:
        now = time.time()
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM login_failure WHERE at < ?", (now - WINDOW,))
            db.executemany(
                "INSERT INTO login_failure VALUES (?, ?)", [(f"user:{user}", now), (f"address:{address}", now)]
            )

    def succeeded(self, user: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM login_failure WHERE key = ?", (f"user:{user}",))
