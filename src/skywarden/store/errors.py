"""Errors of the store (part of the tree drawn in :mod:`skywarden.errors`)::

    SkywardenError
     +-- StoreError                 the database cannot be opened, migrated or written
          +-- AuditChainError           the audit log fails verification (seq, reason)

A bad record given to the store is a :class:`~skywarden.errors.RecordError` that names
the row and the field; nothing of its batch is written.
"""

from __future__ import annotations

from ..errors import SkywardenError


class StoreError(SkywardenError):
    """The store cannot do what was asked: ``path: reason``."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class AuditChainError(StoreError):
    """The audit chain is broken at entry ``seq`` (0: the chain as a whole)."""

    def __init__(self, path: str, seq: int, reason: str) -> None:
        self.seq = seq
        super().__init__(path, f"audit entry {seq}: {reason}" if seq else f"audit: {reason}")
