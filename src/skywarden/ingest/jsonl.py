"""Streaming JSON Lines readers and writers for the records of ../shared/formats.md.

Reading is one line at a time, so memory stays bounded on multi-gigabyte files;
gzip-compressed files are read transparently, whatever their name. A bad line (not JSON,
wrong type, NaN, latitude 200, unknown kind, missing field, a compressed file cut short)
is reported as ``path:line: reason``, counted by reason in :class:`ReadStats` and
skipped: the lines around it are used. With ``strict=True`` the
first bad line raises :class:`~skywarden.errors.BadLineError` instead.

Writing goes to a temporary file beside the target that is renamed into place on success,
so a reader never sees half a file.
"""

from __future__ import annotations

import errno
import gzip
import os
import re
import sys
import tempfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import msgspec

from ..errors import BadLineError, RecordError
from ..records import Detection

T = TypeVar("T")

# How many bad lines are printed before we only count them.
DEFAULT_REPORT_LIMIT = 20
# The reason given for a compressed file that breaks off.
TRUNCATED = "compressed file ends early (truncated); the lines before were read"


@dataclass
class ReadStats:
    """What a reader saw: good and bad lines, bad ones by reason."""

    good: int = 0
    bad: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    report_limit: int = DEFAULT_REPORT_LIMIT
    report: Callable[[str], None] | None = None
    # the line of the record a reader yielded last (for checks made after reading)
    line: int = 0

    def reject(self, err: BadLineError) -> None:
        self.bad += 1
        self.reasons[_reason_key(err.reason)] += 1
        if self.report is not None and self.bad <= self.report_limit:
            self.report(str(err))
            if self.bad == self.report_limit:
                self.report("(further bad lines are counted, not printed)")

    def summary(self) -> str:
        """One readable paragraph: counts and the reasons for rejects."""
        text = f"{self.good} good lines, {self.bad} bad lines skipped"
        if self.reasons:
            text += ": " + "; ".join(f"{n} x {r}" for r, n in self.reasons.most_common())
        return text


def stderr_report(message: str) -> None:
    print(message, file=sys.stderr)


def _reason_key(reason: str) -> str:
    """Group reasons for counting: drop the varying detail after the field name."""
    if reason.startswith("not valid JSON"):
        return "not valid JSON"
    return reason.split(" (got ")[0]


@contextmanager
def _open_binary(path: str | Path) -> Iterator[IO[bytes]]:
    """The file's bytes, uncompressed if it is gzip: told by its first bytes, not its name,
    so a compressed file called .jsonl, or a plain one called .gz, is read all the same.
    The file is opened once and its first bytes peeked, not read: a pipe (``/dev/stdin``)
    works too."""
    with Path(path).open("rb") as fh:
        if fh.peek(2)[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
                yield gz  # type: ignore[misc]
        else:
            yield fh


def _numbered_lines(fh: IO[bytes], name: str) -> Iterator[tuple[int, bytes | BadLineError]]:
    """``(line number, line)``; a compressed file that breaks off (an interrupted copy)
    ends with ``(line number, BadLineError)`` instead of an exception that would lose the
    lines already read."""
    lineno = 0
    try:
        for lineno, raw in enumerate(fh, start=1):
            yield lineno, raw
    except (EOFError, gzip.BadGzipFile, zlib.error):
        yield lineno + 1, BadLineError(name, lineno + 1, TRUNCATED)


def _explain(exc: Exception) -> str:
    """msgspec's message rephrased: field first, then why."""
    msg = str(exc)
    if isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError):
        return f"not valid JSON ({msg})"
    if " - at `$." in msg:
        what, at = msg.rsplit(" - at `$.", 1)
        return f"field {at.rstrip('`')}: {what.replace('`', '')}"
    if msg.startswith("Object missing required field"):
        return f"missing field {msg.split('`')[1]}"
    if msg.startswith("Expected `object`"):
        return "not a JSON object"
    return msg.replace("`", "")


def _reject_non_finite(raw: bytes) -> None:
    """Python's json writes NaN and Infinity, which JSON forbids; name the field."""
    m = re.search(rb'"([^"]+)"\s*:\s*(-?NaN|-?Infinity)', raw)
    if m:
        raise RecordError(
            f"field {m.group(1).decode(errors='replace')}: {m.group(2).decode()} is not a number"
        )


def read_jsonl(
    path: str | Path,
    type_: type[T],
    *,
    strict: bool = False,
    stats: ReadStats | None = None,
    check: Callable[[T], Any] | None = None,
) -> Iterator[T]:
    """Yield one record per good line of ``path``.

    ``check`` is called on each decoded record and may raise :class:`RecordError` (or
    ``ValueError``) to reject it with a reason. Blank lines are skipped silently.

    The file is read in blocks of whole lines, each decoded in one call
    (``Decoder.decode_lines``: about 2.5 times faster than a call per line). A block with
    anything unusual in it (a line that does not decode, a blank line, a NaN) is read
    again line by line, so that every bad line is named and the good ones around it kept.
    """
    stats = stats if stats is not None else ReadStats(report=stderr_report)
    decoder = msgspec.json.Decoder(type_)
    name = str(path)

    def bad(lineno: int, exc: Exception) -> None:
        reason = str(exc) if isinstance(exc, RecordError) else _explain(exc)
        err = BadLineError(name, lineno, reason)
        if strict:
            raise err from exc
        stats.reject(err)

    with _open_binary(path) as fh:
        for first, block in _numbered_blocks(fh, name):
            if isinstance(block, BadLineError):
                if strict:
                    raise block
                stats.reject(block)
                break
            records = _decode_block(decoder, block)
            if records is not None:
                for k, record in enumerate(records):
                    if check is not None:
                        try:
                            check(record)
                        except (RecordError, ValueError) as exc:
                            bad(first + k, exc)
                            continue
                    stats.good += 1
                    stats.line = first + k
                    yield record
                continue
            for lineno, raw in enumerate(block.splitlines(), start=first):
                if not raw.strip():
                    continue
                try:
                    if b"NaN" in raw or b"Infinity" in raw:
                        _reject_non_finite(raw)
                    record = decoder.decode(raw)
                    if check is not None:
                        check(record)
                except (msgspec.DecodeError, RecordError, ValueError) as exc:
                    bad(lineno, exc)
                    continue
                stats.good += 1
                stats.line = lineno
                yield record


# Bytes read at a time by read_jsonl; blocks end at a line's end. A block's records take
# several times its bytes: reading 200,000 detections peaks at 2.1 MB with 256 KiB.
BLOCK_BYTES = 1 << 18


def _numbered_blocks(fh: IO[bytes], name: str) -> Iterator[tuple[int, bytes | BadLineError]]:
    """``(number of its first line, block of whole lines)``, about BLOCK_BYTES each (the
    last may lack its newline). As :func:`_numbered_lines`, a compressed file that breaks
    off ends with a BadLineError after the whole lines read before the break."""
    lineno, pending = 1, b""
    try:
        while True:
            data = fh.read1(BLOCK_BYTES)  # one read: what came before a break is kept
            if not data:
                break
            pending += data
            if len(pending) < BLOCK_BYTES:
                continue
            cut = pending.rfind(b"\n") + 1
            if cut:
                block, pending = pending[:cut], pending[cut:]
                yield lineno, block
                lineno += block.count(b"\n")
    except (EOFError, gzip.BadGzipFile, zlib.error):
        cut = pending.rfind(b"\n") + 1
        if cut:
            yield lineno, pending[:cut]
            lineno += pending[:cut].count(b"\n")
        yield lineno, BadLineError(name, lineno, TRUNCATED)
        return
    if pending:
        yield lineno, pending


def _decode_block(decoder: msgspec.json.Decoder, block: bytes) -> list | None:
    """Every line of ``block`` decoded in one call, or None where the block must be read
    line by line: a line that does not decode, a blank line (decode_lines skips it, and
    the records would no longer line up with the line numbers), a CR, a NaN or
    Infinity."""
    if b"NaN" in block or b"Infinity" in block or b"\r" in block:
        return None
    try:
        records = decoder.decode_lines(block)
    except (msgspec.DecodeError, ValueError):
        return None
    lines = block.count(b"\n") + (not block.endswith(b"\n"))
    return records if len(records) == lines else None


def read_detections(
    path: str | Path,
    *,
    strict: bool = False,
    stats: ReadStats | None = None,
    sensors: Any = None,
) -> Iterator[Detection]:
    """Detections of ``path``, each checked for the fields its kind needs.

    With ``sensors`` (anything supporting ``in``, e.g. a SensorRegistry) a detection from an
    unknown sensor is a bad line too.
    """

    def check(det: Detection) -> None:
        det.check()
        if sensors is not None and det.sensor not in sensors:
            raise RecordError(f"field sensor: {det.sensor!r} is not in the sensor registry")

    return read_jsonl(path, Detection, strict=strict, stats=stats, check=check)


class JsonlWriter:
    """Write records (msgspec structs or builtins) as JSON Lines, atomically.

    Use as a context manager; on an exception the partial file is removed and the target
    is left as it was. ``write_raw`` takes already-encoded lines (bytes ending in ``\\n``).
    """

    def __init__(self, path: str | Path, buffer_size: int = 1 << 20) -> None:
        self.path = Path(path)
        self.count = 0
        self._encoder = msgspec.json.Encoder()
        self._buf = bytearray()
        self._buffer_size = buffer_size
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_dir():
            # Found now, not by the rename at the end of a run that may take hours.
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(self.path))
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        self._tmp = Path(tmp)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(fd, 0o666 & ~umask)
        self._fh: IO[bytes] = os.fdopen(fd, "wb")

    def write(self, record: Any) -> None:
        self._encoder.encode_into(record, self._buf, len(self._buf))
        self._buf.append(10)
        self.count += 1
        if len(self._buf) >= self._buffer_size:
            self._flush()

    def write_raw(self, lines: bytes, count: int) -> None:
        self._buf += lines
        self.count += count
        if len(self._buf) >= self._buffer_size:
            self._flush()

    def _flush(self) -> None:
        self._fh.write(self._buf)
        self._buf.clear()

    def close(self) -> None:
        self._flush()
        self._fh.close()
        try:
            os.replace(self._tmp, self.path)
        except OSError:
            self._tmp.unlink(missing_ok=True)
            raise

    def abort(self) -> None:
        self._fh.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
