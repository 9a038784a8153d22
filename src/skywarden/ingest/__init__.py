"""Ingest: bytes from files, sockets and feeds -> typed records (Detection)."""
