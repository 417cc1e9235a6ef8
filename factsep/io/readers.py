"""Corpus readers: JSONL (plain, .gz, .zst), Parquet and .txt, local or any fsspec URL.

Every reader yields :class:`Batch` objects of at most ``batch_size`` documents, so memory is bounded
by the batch (and by ``max_record_bytes`` for one record), not by the file. Bad input never raises:
it comes out as :class:`Bad` items with a location and a reason, ready for the quarantine.

One input file may be read in parts (:class:`ReadRange`): a byte range of an uncompressed JSON lines
file, cut at newlines by :class:`LineCutter` when the scan plans it, or a range of a Parquet file's
row groups (:func:`parquet_ranges`). Why: a shard's end-of-scan step (its documents part, then
materialize) grows with the shard, so one huge file must not be one huge shard. A part knows how
many lines (rows) of the file come before it, so line numbers, ``path:line`` ids and quarantine
locations stay the file's own.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from factsep.io import fs as outfs

JSONL_EXT = (".jsonl", ".ndjson", ".json")
PARQUET_EXT = (".parquet", ".pq")
TXT_EXT = (".txt", ".text")
COMPRESSION_EXT = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}

READ_CHUNK = 1 << 16  # compressed bytes fed to a decompressor at a time
OUT_CHUNK = 1 << 20  # most decompressed bytes produced per step (zip-bomb guard)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def detect_format(path: str) -> tuple[str, str | None]:
    """(format, compression) from the file name: jsonl, parquet, txt or unknown."""
    name = path.rsplit("/", 1)[-1].lower()
    compression = None
    for ext, comp in COMPRESSION_EXT.items():
        if name.endswith(ext):
            compression = comp
            name = name[: -len(ext)]
            break
    if name.endswith(JSONL_EXT):
        return "jsonl", compression
    if name.endswith(PARQUET_EXT) and compression is None:
        return "parquet", None
    if name.endswith(TXT_EXT):
        return "txt", compression
    return "unknown", compression


@dataclass
class Bad:
    """One record (or file) that could not become a document."""

    loc_name: str  # "line", "row" or "file"
    loc: int | None
    reason: str
    raw: bytes | str | None
    size: int | None = None  # original size in bytes when ``raw`` was cut

    def cut(self, max_raw_bytes: int) -> Bad:
        """Keep at most ``max_raw_bytes`` of raw (recording the original size), so bad input held
        in a batch stays small however big the bad records are."""
        raw = self.raw
        if raw is None:
            return self
        data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
        if len(data) <= max_raw_bytes:
            return self
        size = self.size if self.size is not None else len(data)
        return Bad(self.loc_name, self.loc, self.reason, bytes(data[:max_raw_bytes]), size)

    def to_record(self, file: str, max_raw_bytes: int) -> dict[str, Any]:
        rec: dict[str, Any] = {"file": file, "reason": self.reason}
        if self.loc_name != "file":
            rec[self.loc_name] = self.loc
        raw = self.raw
        if raw is None:
            rec["raw"], rec["encoding"] = None, None
            return rec
        data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
        size = self.size if self.size is not None else len(data)
        data = data[:max_raw_bytes]
        try:
            if b"\x00" in data:
                raise UnicodeDecodeError("utf-8", data, 0, 1, "binary")
            rec["raw"], rec["encoding"] = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            rec["raw"], rec["encoding"] = base64.b64encode(data).decode("ascii"), "base64"
        if size > len(data):
            rec["raw_truncated"] = True
            rec["size"] = size
        return rec


@dataclass
class Batch:
    """Up to ``batch_size`` good documents, plus the bad and skipped records met on the way."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    locs: list[int] = field(default_factory=list)
    loc_name: str = "line"
    schema: pa.Schema | None = None  # input schema when the format has one (Parquet)
    bad: list[Bad] = field(default_factory=list)
    skipped: int = 0
    max_raw_bytes: int = 1 << 20
    read: int = 0
    bytes_done: int = 0  # position in the (compressed) input after this batch

    def __len__(self) -> int:
        return len(self.rows)

    def add_bad(self, bad: Bad) -> None:
        self.bad.append(bad.cut(self.max_raw_bytes))

    def full(self, batch_size: int) -> bool:
        """Enough documents, or enough bad records, to hand the batch on."""
        return len(self.rows) >= batch_size or len(self.bad) >= batch_size


@dataclass(frozen=True)
class ReadRange:
    """The part of one input file a shard reads.

    JSON lines: bytes ``[start, end)``, ``start`` 0 or just after a newline, ``end`` just after a
    newline or the file's end (so no line is cut). Parquet: row groups ``[start, end)``, and
    ``byte_start`` where the first of them begins (for progress). ``first_loc``: lines (rows) of
    the file before the part, added to every location read.
    """

    start: int
    end: int
    first_loc: int = 0
    byte_start: int = 0


class LineCutter:
    """Cuts a stream of bytes into ranges of at most ``every`` bytes at newlines, counting lines.

    Fed the file's bytes in order (in any chunk sizes, during the pass that hashes the file), it
    gives ``(start, end, lines_before)`` per range: each range ends after the last newline within
    ``every`` bytes of its start, or, when one line is longer than that, after that line's newline
    (a line is never split, however long). The same bytes always give the same ranges.
    """

    def __init__(self, every: int) -> None:
        if every < 1:
            raise ValueError("every must be at least 1")
        self.every = every
        self.cuts: list[tuple[int, int]] = []  # (position after a newline, lines before it)
        self._start = 0
        self._pos = 0
        self._lines = 0
        self._last_nl = 0  # position after the last newline of the chunks before this one
        self._last_nl_lines = 0
        self._seeking = False  # past the target with no newline since the start: cut at the next one

    def _cut(self, at: int, lines: int) -> None:
        self.cuts.append((at, lines))
        self._start = at

    def feed(self, chunk: bytes) -> None:
        pos, n = self._pos, len(chunk)
        off = 0
        while True:
            if self._seeking:
                i = chunk.find(b"\n", off)
                if i < 0:
                    break
                self._seeking = False
                self._cut(pos + i + 1, self._lines + chunk.count(b"\n", 0, i + 1))
                off = i + 1
                continue
            target = self._start + self.every
            if target >= pos + n:
                break
            rel = max(target - pos, 0)
            i = chunk.rfind(b"\n", off, rel)
            if i >= 0:
                self._cut(pos + i + 1, self._lines + chunk.count(b"\n", 0, i + 1))
                off = i + 1
            elif self._last_nl > self._start:
                self._cut(self._last_nl, self._last_nl_lines)
            else:
                self._seeking = True
                off = max(off, rel)
        count = chunk.count(b"\n")
        j = chunk.rfind(b"\n")
        self._lines += count
        if j >= 0:
            self._last_nl, self._last_nl_lines = pos + j + 1, self._lines
        self._pos = pos + n

    def ranges(self) -> list[tuple[int, int, int]]:
        """``(start, end, lines_before)`` of every range, covering the bytes fed."""
        out: list[tuple[int, int, int]] = []
        start, before = 0, 0
        for at, lines in self.cuts:
            if at > start:
                out.append((start, at, before))
            start, before = at, lines
        if self._pos > start:
            out.append((start, self._pos, before))
        return out


def parquet_ranges(pf: pq.ParquetFile, size: int, every: int) -> list[tuple[ReadRange, int]]:
    """Consecutive row groups of about ``every`` bytes (on disk) each, with each range's bytes.

    A row group is never split; a file of one row group is one range.
    """
    md = pf.metadata
    starts: list[int] = []
    for i in range(md.num_row_groups):
        rg = md.row_group(i)
        cols = [rg.column(c) for c in range(rg.num_columns)]
        offsets = [o for c in cols for o in (c.dictionary_page_offset, c.data_page_offset) if o is not None and o > 0]
        starts.append(min(offsets) if offsets else 0)
    out: list[tuple[ReadRange, int]] = []
    first = rows = 0
    for i in range(1, md.num_row_groups + 1):
        end_byte = starts[i] if i < md.num_row_groups else size
        begin = 0 if first == 0 else starts[first]
        if i == md.num_row_groups or end_byte - begin >= every:
            before = rows
            rows += sum(md.row_group(k).num_rows for k in range(first, i))
            out.append((ReadRange(first, i, before, begin), end_byte - begin))
            first = i
    return out


class _Window:
    """Bytes ``[start, end)`` of an open file, read as a file of their own (``tell`` from start)."""

    def __init__(self, fh: Any, start: int, end: int) -> None:
        fh.seek(start)
        self._fh, self._start, self._left = fh, start, end - start

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        data = self._fh.read(self._left if n is None or n < 0 else min(n, self._left))
        self._left -= len(data)
        return data

    def tell(self) -> int:
        return int(self._fh.tell()) - self._start


@dataclass(frozen=True)
class ReadOptions:
    text_field: str = "text"
    id_field: str = "id"
    batch_size: int = 256
    max_record_bytes: int = 8 << 20
    max_raw_bytes: int = 1 << 20


class _Cut(Exception):
    """The compressed stream ended early or is corrupt; ``reason`` says how."""


def _decompressed(fh: BinaryIO, compression: str | None) -> Iterator[bytes]:
    """Decompressed bytes of ``fh`` in bounded chunks; raises :class:`_Cut` at a truncated end."""
    if compression is None:
        while chunk := fh.read(OUT_CHUNK):
            yield chunk
        return
    if compression == "gzip":
        d: Any = zlib.decompressobj(wbits=47)
        fed = False
        while raw := fh.read(READ_CHUNK):
            fed = True
            buf = raw
            while buf:
                try:
                    out = d.decompress(buf, OUT_CHUNK)
                except zlib.error as exc:
                    raise _Cut(f"corrupt gzip stream ({exc})") from exc
                if out:
                    yield out
                if d.eof:
                    buf = d.unused_data
                    if buf.strip(b"\x00") == b"":
                        buf = b""
                    else:
                        d = zlib.decompressobj(wbits=47)
                else:
                    buf = d.unconsumed_tail
        while fed and not d.eof:  # output still held back by the max_length guard
            out = d.decompress(b"", OUT_CHUNK)
            if not out:
                break
            yield out
        if fed and not d.eof:
            raise _Cut("truncated gzip stream (ended before the end-of-stream marker)")
        return
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    z: Any = dctx.decompressobj()
    fed = False
    while raw := fh.read(READ_CHUNK):
        fed = True
        buf = raw
        while buf:
            try:
                out = z.decompress(buf)
            except zstandard.ZstdError as exc:
                raise _Cut(f"corrupt zstd stream ({exc})") from exc
            if out:
                yield out
            if z.eof:
                buf = z.unused_data
                z = dctx.decompressobj()
                fed = bool(buf)
            else:
                buf = b""
    if fed and not z.eof:
        raise _Cut("truncated zstd stream (ended inside a frame)")


def _lines(
    fh: BinaryIO, compression: str | None, max_record_bytes: int, first_line: int = 0, bom: bool = True
) -> Iterator[tuple[int, bytes | None, str | None, int]]:
    """(line number, line bytes or None, problem or None, original size) for every line.

    A line longer than ``max_record_bytes`` comes out once, cut, with a problem; the end of a cut
    stream comes out as a last item with the partial line (possibly empty) and the problem.
    Numbers start after ``first_line`` (the lines of the file before a part); a byte-order mark is
    dropped only with ``bom`` (at the file's start).
    """
    buf = bytearray()
    lineno = first_line
    skipping = False  # inside an oversized line: drop bytes until its newline
    skipped_size = 0
    first = bom
    try:
        for chunk in _decompressed(fh, compression):
            if first and chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
            first = False
            start = 0
            while True:
                nl = chunk.find(b"\n", start)
                if nl < 0:
                    piece = chunk[start:]
                    if skipping:
                        skipped_size += len(piece)
                    else:
                        buf += piece
                        if len(buf) > max_record_bytes:
                            skipping, skipped_size = True, len(buf)
                    break
                piece = chunk[start:nl]
                start = nl + 1
                lineno += 1
                if skipping:
                    skipped_size += len(piece)
                    yield lineno, bytes(buf[:max_record_bytes]), "record too large", skipped_size
                    skipping = False
                    buf.clear()
                    continue
                buf += piece
                if len(buf) > max_record_bytes:
                    yield lineno, bytes(buf[:max_record_bytes]), "record too large", len(buf)
                else:
                    yield lineno, bytes(buf), None, len(buf)
                buf.clear()
    except _Cut as cut:
        lineno += 1
        yield lineno, bytes(buf[:max_record_bytes]), str(cut), (skipped_size if skipping else len(buf))
        return
    except OSError as exc:  # a remote or local read failed mid-file
        lineno += 1
        yield lineno, bytes(buf[:max_record_bytes]), f"read error ({exc})", len(buf)
        return
    if skipping or buf:
        lineno += 1
        if skipping:
            yield lineno, bytes(buf[:max_record_bytes]), "record too large", skipped_size
        elif len(buf) > max_record_bytes:
            yield lineno, bytes(buf[:max_record_bytes]), "record too large", len(buf)
        else:
            yield lineno, bytes(buf), None, len(buf)


def _text_problem(obj: dict[str, Any], text_field: str) -> str | None:
    if text_field not in obj:
        return f"missing text field {text_field!r}"
    text = obj[text_field]
    if text is None:
        return f"null text field {text_field!r}"
    if not isinstance(text, str):
        return f"non-string text field {text_field!r} ({type(text).__name__})"
    return None


def _has_lone_surrogate(obj: Any) -> bool:
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _pos(fh: Any) -> int:
    try:
        return int(fh.tell())
    except Exception:  # noqa: BLE001 - some fsspec files cannot tell
        return 0


def read_jsonl(
    fh: BinaryIO, compression: str | None, opts: ReadOptions, part: ReadRange | None = None
) -> Iterator[Batch]:
    """JSON lines, one object a line; bad lines become :class:`Bad` with their line number.

    With ``part`` (uncompressed files only), only its bytes are read, numbered as in the file.
    """
    batch = Batch(loc_name="line", max_raw_bytes=opts.max_raw_bytes)
    first_line, bom = 0, True
    if part is not None:
        if compression is not None:
            raise ValueError("a compressed stream cannot be read by byte range")
        fh = _Window(fh, part.start, part.end)  # type: ignore[assignment]
        first_line, bom = part.first_loc, part.start == 0
    for lineno, line, problem, size in _lines(fh, compression, opts.max_record_bytes, first_line, bom):
        batch.read += 1
        if problem is not None:
            batch.add_bad(Bad("line", lineno, problem, line, size if problem == "record too large" else None))
        else:
            assert line is not None
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line.strip():
                batch.skipped += 1
            else:
                _parse_json_line(batch, lineno, line, opts)
        if batch.full(opts.batch_size):
            batch.bytes_done = _pos(fh)
            yield batch
            batch = Batch(loc_name="line", max_raw_bytes=opts.max_raw_bytes)
    batch.bytes_done = _pos(fh)
    if batch.read or batch.rows:
        yield batch


def _parse_json_line(batch: Batch, lineno: int, line: bytes, opts: ReadOptions) -> None:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        batch.add_bad(Bad("line", lineno, f"invalid UTF-8 at byte {exc.start}", line))
        return
    nul = line.find(b"\x00")
    if nul >= 0:  # JSON has no raw NUL: this line alone is bad (a NUL in a value is written \u0000)
        what = "binary data" if looks_binary(line) else "NUL byte"
        batch.add_bad(Bad("line", lineno, f"{what} (NUL at byte {nul}; JSON writes a NUL as \\u0000)", line))
        return
    try:
        obj = json.loads(text)
    except ValueError as exc:
        where = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        msg = str(getattr(exc, "msg", exc)).removesuffix(" at")
        batch.add_bad(Bad("line", lineno, f"invalid JSON ({msg}{where})", line))
        return
    except RecursionError:
        batch.add_bad(Bad("line", lineno, "invalid JSON (nested too deeply)", line))
        return
    if not isinstance(obj, dict):
        batch.add_bad(Bad("line", lineno, f"not a JSON object ({type(obj).__name__})", line))
        return
    problem = _text_problem(obj, opts.text_field)
    if problem is None and _SURROGATE_ESCAPE.search(line) and _has_lone_surrogate(obj):
        problem = "invalid Unicode (lone surrogate escape)"
    if problem is not None:
        batch.add_bad(Bad("line", lineno, problem, line))
        return
    batch.rows.append(obj)
    batch.locs.append(lineno)


def read_parquet(fh: BinaryIO, opts: ReadOptions, part: ReadRange | None = None) -> Iterator[Batch]:
    """Parquet in record batches; rows whose text is missing, null or not a string become Bad.

    With ``part``, only its row groups are read, rows numbered as in the file.
    """
    try:
        pf = pq.ParquetFile(fh)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is quarantined, not raised
        fh.seek(0)
        head = fh.read(1 << 16)
        yield Batch(loc_name="row", read=1, bad=[Bad("file", None, f"unreadable Parquet ({exc})", head)])
        return
    schema = pf.schema_arrow.remove_metadata()
    field_type = schema.field(opts.text_field).type if opts.text_field in schema.names else None
    text_ok = field_type is not None and (pa.types.is_string(field_type) or pa.types.is_large_string(field_type))
    row = part.first_loc if part is not None else 0
    groups = range(part.start, part.end) if part is not None else None
    base = part.byte_start if part is not None else 0
    try:
        for rb in outfs.iter_batches(pf, opts.batch_size, row_groups=groups):
            batch = Batch(loc_name="row", schema=schema, max_raw_bytes=opts.max_raw_bytes)
            for obj in rb.to_pylist():
                batch.read += 1
                problem = (
                    _text_problem(obj, opts.text_field)
                    if text_ok or field_type is None
                    else (f"non-string text field {opts.text_field!r} ({field_type})")
                )
                if problem is None:
                    batch.rows.append(obj)
                    batch.locs.append(row)
                else:
                    batch.add_bad(Bad("row", row, problem, json.dumps(obj, default=str, ensure_ascii=False)))
                row += 1
            batch.bytes_done = max(0, _pos(fh) - base)
            yield batch
    except Exception as exc:  # noqa: BLE001 - a corrupt row group: report where reading stopped
        yield Batch(loc_name="row", read=1, bad=[Bad("row", row, f"unreadable Parquet data from here ({exc})", None)])


def read_txt(fh: BinaryIO, compression: str | None, opts: ReadOptions) -> Iterator[Batch]:
    """One document per file; binary or non-UTF-8 content is quarantined whole."""
    data = bytearray()
    try:
        for chunk in _decompressed(fh, compression):
            data += chunk
            if len(data) > opts.max_record_bytes:
                yield Batch(
                    read=1,
                    bad=[
                        Bad("line", 1, "document too large", bytes(data[: opts.max_raw_bytes]), len(data)).cut(
                            opts.max_raw_bytes
                        )
                    ],
                )
                return
    except (_Cut, OSError) as exc:
        yield Batch(read=1, bad=[Bad("line", 1, str(exc), bytes(data)).cut(opts.max_raw_bytes)])
        return
    raw = bytes(data)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        yield Batch(read=1, bad=[Bad("file", None, "empty file", raw).cut(opts.max_raw_bytes)])
        return
    if looks_binary(raw[:8192]):
        yield Batch(read=1, bad=[Bad("file", None, "binary file", raw).cut(opts.max_raw_bytes)])
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield Batch(read=1, bad=[Bad("file", None, f"invalid UTF-8 at byte {exc.start}", raw).cut(opts.max_raw_bytes)])
        return
    yield Batch(rows=[{opts.text_field: text}], locs=[1], read=1, bytes_done=_pos(fh))


def read_source(
    url: str, opts: ReadOptions, storage_options: dict[str, Any] | None = None, part: ReadRange | None = None
) -> Iterator[Batch]:
    """Read one input file of any supported format (or ``part`` of it), through fsspec, as batches.

    An input that cannot be opened (no permission, a link to nowhere, a folder that cannot be
    listed) comes out as one file-level :class:`Bad` saying so, never as an exception: one bad
    path must not stop a run.
    """
    fmt, compression = detect_format(url)
    try:
        fh = fsspec.open(url, "rb", **(storage_options or {})).open()
    except OSError as exc:
        yield Batch(read=1, bad=[Bad("file", None, _unreadable(url, exc, storage_options), None)])
        return
    with fh:
        try:
            if part is not None and fmt == "jsonl":
                fh.seek(part.start)
            head = fh.read(8192)
            fh.seek(0)
        except OSError as exc:
            yield Batch(read=1, bad=[Bad("file", None, _unreadable(url, exc, storage_options), None)])
            return
        if not head:
            yield Batch(read=1, bad=[Bad("file", None, "empty file", b"")])
            return
        if fmt == "unknown":
            sniff = "binary" if looks_binary(head) else "text"
            yield Batch(
                read=1,
                bad=[
                    Bad(
                        "file",
                        None,
                        f"unknown format ({sniff} file, not .jsonl/.json/.parquet/.txt)",
                        fh.read(opts.max_raw_bytes),
                        _size(fh),
                    )
                ],
            )
            return
        if fmt == "jsonl":
            # no whole-file binary sniff: a NUL byte is invalid JSON on its own line only
            yield from read_jsonl(fh, compression, opts, part)
        elif fmt == "parquet":
            yield from read_parquet(fh, opts, part)
        else:
            yield from read_txt(fh, compression, opts)


_CONTROL = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])


def looks_binary(head: bytes) -> bool:
    """True for binary content: NUL bytes above 1% of ``head`` (UTF-16 text, archives, images) or
    control bytes above 10%. One stray NUL in a text file is kept as a character, not a reason to
    drop the file."""
    if not head:
        return False
    nuls = head.count(0)
    control = len(head) - len(head.translate(None, _CONTROL))
    return (nuls > 1 and nuls * 100 > len(head)) or control * 10 > len(head)


def _unreadable(url: str, exc: OSError, storage_options: dict[str, Any] | None) -> str:
    """A quarantine reason for an input that cannot be opened, naming the fix."""
    why = exc.strerror or str(exc) or type(exc).__name__
    try:
        fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
        is_dir = bool(fs.isdir(path))
    except Exception:  # noqa: BLE001 - the reason is what matters here
        is_dir = False
    if isinstance(exc, FileNotFoundError):
        return f"missing file ({why}: a link to nowhere, or removed after planning)"
    if is_dir:
        return f"unreadable folder, its files were not scanned ({why}; grant read and execute permission and re-run)"
    return f"unreadable file ({why}; grant read permission and re-run)"


def _size(fh: Any) -> int | None:
    try:
        return int(fh.size)
    except Exception:  # noqa: BLE001
        return None
