"""Node settings: from the node's config file (`node.yaml` in the node home), overridden by
environment variables prefixed `COMITY_` (for example `COMITY_DATABASE_URL`).

Secrets (the key passphrase) are read from the environment only and never written to the file.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from comity.kit.errors import ConfigurationError

CONFIG_FILE = "node.yaml"


class NodeSettings(BaseSettings):
    """Everything a node needs to run. Durations are in seconds."""

    model_config = SettingsConfigDict(env_prefix="COMITY_", extra="ignore")

    home: Path = Field(default=Path("."), description="Folder holding node.yaml and the database")
    participant_id: str = Field(default="", description="This node's id in the directory")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; SQLite file in home if empty"
    )
    host: str = "127.0.0.1"
    port: int = 8600
    public_url: str = Field(default="", description="Endpoint other nodes deliver to")
    registry_url: str = Field(default="", description="Where to pull the directory from")
    registry_key: dict[str, Any] | None = Field(
        default=None, description="Pinned public JWK of the registry that signs the directory"
    )
    key_passphrase: SecretStr | None = Field(
        default=None, description="Protects private keys at rest (environment only)"
    )
    max_body_bytes: int = Field(
        default=1_048_576, description="Largest envelope, and largest JSON body of the API"
    )
    max_batch_bytes: int = Field(
        default=4 * 1_048_576,
        description="Largest body of POST /v1/envelopes/batch; the worker's batches stay below it",
    )
    blob_dir: Path | None = Field(
        default=None, description="Evidence blob store folder; default: blobs/ in home"
    )
    evidence_chunk_size: int = Field(
        default=1024 * 1024, description="Plaintext bytes per encrypted evidence chunk"
    )
    evidence_chunks_in_flight: int = Field(
        default=4,
        ge=1,
        le=16,
        description="Chunks a sending node has in flight at once per evidence transfer",
    )
    evidence_import_dir: Path | None = Field(
        default=None,
        description="Folder the API may import sealed packages from; default: import/ in home",
    )
    evidence_retry_seconds: int = Field(
        default=60, description="How often the worker resumes interrupted evidence transfers"
    )
    evidence_upload_max_bytes: int = Field(
        default=4 * 1024**3,
        description="Largest total size of the files of one evidence upload through the web pages",
    )
    clock_skew_seconds: int = 300
    max_message_age_seconds: int = 7 * 24 * 3600
    receipt_deadline_seconds: int = 900
    retrieval_deadline_seconds: int = 24 * 3600
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 300.0
    delivery_timeout_seconds: float = 10.0
    worker_poll_seconds: float = 0.2
    directory_pull_seconds: int = 3600
    lease_seconds: int = 60
    bench_endpoints: bool = False
    login_max_failures: int = Field(default=5, description="Failed logins before a lockout")
    login_lockout_seconds: int = 900
    session_max_seconds: int = Field(default=12 * 3600, description="Longest life of a login")
    session_idle_seconds: int = Field(
        default=30 * 60, description="A session unused this long ends"
    )
    audit_checkpoint_seconds: int = Field(
        default=600,
        description="How often the worker signs and sends an audit checkpoint (if the log grew)",
    )
    audit_checkpoint_entries: int = Field(
        default=200,
        description="A checkpoint is also due as soon as the log grew by this many entries",
    )
    audit_checkpoint_peers: list[str] = Field(
        default_factory=list,
        description="Who receives audit checkpoints; empty: every party we have a case with",
    )
    # Workflow: duty desk, deadlines and reminders (cases, duty, notifications).
    duty_ack_seconds: int = Field(
        default=3600, description="Time the officer on duty has to acknowledge an urgent request"
    )
    acknowledgement_expected_seconds: int = Field(
        default=24 * 3600, description="After this, an unacknowledged request of ours is flagged"
    )
    status_reminder_days: int = Field(
        default=30, description="Remind the requesting officers after this many silent days"
    )
    status_answer_seconds: int = Field(
        default=3 * 24 * 3600, description="Time to answer a status query before a reminder"
    )
    preservation_warning_days: list[int] = Field(
        default_factory=lambda: [14, 3], description="Warn this many days before data expires"
    )
    smtp_host: str = Field(default="", description="SMTP server for e-mail notifications")
    smtp_port: int = 25
    smtp_from: str = "comity@localhost"
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: SecretStr | None = Field(default=None, description="Environment only")
    smtp_timeout_seconds: float = 10.0
    email_max_attempts: int = 5

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit values (command-line options) win over the environment, which wins over the
        # node's config file.
        return (init_settings, env_settings, _ConfigFileSource(settings_cls))

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'node.db').resolve()}"

    @property
    def effective_import_dir(self) -> Path:
        return (self.evidence_import_dir or self.home / "import").resolve()

    @property
    def effective_blob_dir(self) -> Path:
        return self.blob_dir or self.home / "blobs"

    @property
    def effective_public_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


_config_home: ContextVar[Path | None] = ContextVar("comity_config_home", default=None)


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Values from `node.yaml` in the home being loaded by `load_settings`."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        home = _config_home.get()
        return read_config_file(home) if home is not None else {}


def read_config_file(home: Path) -> dict[str, Any]:
    path = home / CONFIG_FILE
    if not path.exists():
        return {}
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigurationError(f"{path}: expected a mapping of settings")
    loaded.pop("key_passphrase", None)
    loaded.pop("smtp_password", None)
    return loaded


def write_config_file(home: Path, values: dict[str, Any]) -> Path:
    path = home / CONFIG_FILE
    path.write_text(yaml.safe_dump(values, sort_keys=True, allow_unicode=True), encoding="utf-8")
    return path


def load_settings(home: Path | str | None = None, **overrides: Any) -> NodeSettings:
    """Settings for the node whose home is `home` (default: `COMITY_HOME` or the current folder)."""
    resolved = Path(home or os.environ.get("COMITY_HOME") or ".").resolve()
    values = {k: v for k, v in overrides.items() if v not in (None, "")}
    values["home"] = resolved
    marker = _config_home.set(resolved)
    try:
        settings = NodeSettings(**values)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid settings for node at {resolved}: {exc}") from exc
    finally:
        _config_home.reset(marker)
    settings.home = resolved
    return settings
