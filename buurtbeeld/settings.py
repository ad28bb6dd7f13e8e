"""The one place where configuration is read (environment variables with prefix BUURTBEELD_, or .env).

Every other module receives a `Settings` object or calls `get_settings()`; nothing else reads os.environ
for Buurtbeeld configuration.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Who sees exact counts (DESIGN section 4): the gemeente's own analysts and functioneel beheer; everything
# that leaves that team (stadsdeel managers, an open dashboard) sees protected figures only.
DEFAULT_AUDIENCES: dict[str, Literal["intern", "gedeeld"]] = {
    "analist": "intern",
    "beheer": "intern",
    "stadsdeel": "gedeeld",
    "open": "gedeeld",
}


def _project_root() -> Path | None:
    """The source checkout this package runs from (python3 dev.py, or `uv run`), None when installed."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "dev.py").is_file() else None


# In a checkout, the data folder and .env are the checkout's, wherever a command is run from: a CLI
# run from another folder must not silently start an empty warehouse there. Installed elsewhere
# (the image sets BUURTBEELD_DATA_DIR), the working folder's.
_PROJECT = _project_root()
DEFAULT_DATA_DIR = _PROJECT / "var" if _PROJECT else Path("var")
ENV_FILES = (_PROJECT / ".env", ".env") if _PROJECT else (".env",)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BUURTBEELD_",
        env_file=ENV_FILES,
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
    )

    data_dir: Path = Field(
        DEFAULT_DATA_DIR, description="Root for the embedded warehouse and file folders (default: the checkout's var/)."
    )
    warehouse_url: str = Field("", description="SQLAlchemy URL; empty means a SQLite file data_dir/buurtbeeld.sqlite.")
    inbox_dir: Path | None = None
    archive_dir: Path | None = None
    quarantine_dir: Path | None = None
    suppression_threshold: int = Field(
        5, ge=1, description="Shared figures are multiples of it; no count 1..threshold-1 can be derived from them."
    )
    audiences: dict[str, Literal["intern", "gedeeld"]] = Field(
        default_factory=dict,
        description=(
            "Audience per dashboard role (analist, beheer, stadsdeel, open = no accounts), as JSON; roles not "
            "named keep their default: analist and beheer intern (exact counts, vertrouwelijk), stadsdeel and "
            "open gedeeld (protected figures only)."
        ),
    )
    max_reject_share: float = Field(
        0.05, ge=0.0, le=1.0, description="A file loads its valid rows only if at most this share is rejected."
    )
    hic_groups: list[str] = Field(
        ["woninginbraak", "straatroof", "overval"],
        description="Dashboard groups counted as high impact crime; there is no single national definition.",
    )
    hash_secret: SecretStr | None = Field(
        None, description="Key for hashing voorval ids; generated into data_dir on first use when unset."
    )

    map_style: str = Field(
        "white-bg", description="Basemap of the dashboard maps: 'white-bg' needs no network; or a MapLibre style name."
    )
    map_tiles_url: str = Field("", description="Optional raster tile URL template ({z}/{x}/{y}) under the buurten.")
    users_file: Path | None = Field(
        None, description="TOML/JSON file of dashboard accounts (user: password hash, role, stadsdeel); none = open."
    )
    users: str = Field("", description="Accounts inline, as JSON (same shape as users_file); for containers.")
    trusted_user_header: str = Field(
        "", description="Trust this header (set by an SSO reverse proxy) as the user name instead of a login form."
    )
    session_secret: SecretStr | None = Field(
        None, description="Key that signs dashboard session cookies; generated into data_dir on first use when unset."
    )
    secure_cookies: bool = Field(True, description="Send session cookies only over HTTPS (turn off for local http).")

    alert_webhook_url: str = Field(
        "", description="On a failed scheduled task, POST a JSON message here (e.g. a Teams/Mattermost/Slack webhook)."
    )
    alert_email: str = Field("", description="On a failed scheduled task, mail this address (needs smtp_host).")
    smtp_host: str = Field("", description="SMTP relay for alert_email, host or host:port (no authentication).")
    alert_from: str = Field("buurtbeeld@localhost", description="Sender of alert mails.")
    bvh_earliest_date: date = Field(
        date(2000, 1, 1),
        description=(
            "Pleeg- and kennisname dates before this are refused as implausible (a placeholder such as 1900 "
            "or a typing error); set it earlier to load an older history."
        ),
    )
    archive_retention_days: int = Field(
        91,
        ge=1,
        description=(
            "Raw police exports (addresses, X/Y) are deleted from the archive and quarantine after this many "
            "days (buurtbeeld opruimen, DAG archief_opruimen); what the warehouse made of them stays."
        ),
    )
    backup_dir: Path | None = Field(
        None,
        description=(
            "Where `buurtbeeld backup` and the DAG warehouse_backup write backups (default data_dir/backups); "
            "they hold the secrets, so keep it private (the folders are made 0700)."
        ),
    )
    backup_keep: int = Field(
        14, ge=1, description="The nightly backup keeps this many backups in backup_dir and deletes older ones."
    )
    inbox_settle_seconds: int = Field(
        120,
        ge=0,
        description="A file in an inbox counts once it has not changed for this long (or has a .klaar marker).",
    )

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        self.audiences = {**DEFAULT_AUDIENCES, **self.audiences}
        self.data_dir = self.data_dir.expanduser().resolve()
        if not self.warehouse_url:
            self.warehouse_url = f"sqlite:///{self.data_dir / 'buurtbeeld.sqlite'}"
        self.inbox_dir = (self.inbox_dir or self.data_dir / "inbox").expanduser().resolve()
        self.archive_dir = (self.archive_dir or self.data_dir / "archive").expanduser().resolve()
        self.quarantine_dir = (self.quarantine_dir or self.data_dir / "quarantine").expanduser().resolve()
        self.backup_dir = (self.backup_dir or self.data_dir / "backups").expanduser().resolve()
        return self

    def hashing_key(self) -> bytes:
        """The voorval-hash key. Persisted on first use so re-loads hash identically across runs.

        Generated into the data folder only for the embedded SQLite warehouse (demo, trial): with
        PostgreSQL (production) a key beside the archived exports would let whoever reads that folder
        reverse the hashes by enumerating incident numbers, so there it must be a secret of its own."""
        if self.hash_secret is None and self.warehouse_url.startswith("postgresql"):
            raise SettingsError(
                "BUURTBEELD_HASH_SECRET is niet ingesteld. Met een PostgreSQL-warehouse (productie) is de "
                "sleutel van de voorval-hash een geheim van de omgeving (docker compose: .env of een "
                "secret), niet een bestand in de datamap naast de exports. Zie docs/privacy.md."
            )
        return self._secret(self.hash_secret, "hash_secret")

    def cell_key(self) -> bytes:
        """The key of the shared figures' cell keys (buurtbeeld.disclosure.cell_keys), derived from the
        deployment's hash key so that a deployment has one secret to keep."""
        return hashlib.blake2b(self.hashing_key(), digest_size=32, person=b"buurtbeeld-cel").digest()

    def session_key(self) -> bytes:
        return self._secret(self.session_secret, "session_secret")

    def _secret(self, value: SecretStr | None, name: str) -> bytes:
        if value is not None:
            return value.get_secret_value().encode()
        key_file = self.data_dir / name
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        return key_file.read_text().strip().encode()


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it and says what is expected (in Dutch)."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = [
            f"BUURTBEELD_{str(e['loc'][0]).upper()}"
            + (f" ({'.'.join(str(x) for x in e['loc'][1:])})" if len(e["loc"]) > 1 else "")
            + f": {e['msg']}, gekregen {e.get('input')!r}"
            for e in exc.errors()
        ]
        raise SettingsError("Ongeldige instelling: " + "; ".join(problems)) from None
