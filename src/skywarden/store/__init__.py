"""The store: what outlives the process (track history, alerts, acknowledgements,
restrictions, the audit log, organisations and token hashes).

- :mod:`.base`: the interface (:class:`Store`) and the records it returns;
- :mod:`.sqlite`: :class:`SqliteStore`, one SQLite file in WAL mode (the default);
- :mod:`.schema`: the migrations; :mod:`.audit`: the hash chain; :mod:`.tokens`: token
  hashing.

docs/STORE.md describes the tables, the retention and the choices.
"""

from .base import (
    Acknowledgement,
    AuditEntry,
    AuditVerified,
    IssuedToken,
    Organisation,
    Pruned,
    Store,
    StoredAlert,
    StoredRestriction,
    TokenGrant,
)
from .errors import AuditChainError, StoreError
from .schema import SCHEMA_VERSION
from .sqlite import DAY, SqliteStore

__all__ = [
    "Acknowledgement",
    "AuditChainError",
    "AuditEntry",
    "AuditVerified",
    "DAY",
    "IssuedToken",
    "Organisation",
    "Pruned",
    "SCHEMA_VERSION",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoredAlert",
    "StoredRestriction",
    "TokenGrant",
]
