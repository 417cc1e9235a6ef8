"""The secret that keys value hashes, one per corpus (or one the user shares between corpora).

``value_hash`` is what ``--no-values`` output, ``state/counts.parquet`` and the ledgers carry in
place of a value. Unkeyed, a hash of a phone number or a date of birth is reversed by trying every
value of the format (seconds for a US number with its area code known). Keyed with a secret the
reader does not hold, it is not: trying values needs the key.

Where the key comes from, in this order:

1. ``FACTSEP_HASH_KEY`` in the environment: any text, shared by every run that should merge
   counts (several corpora, a re-scan into a fresh folder). Only a check value (a keyed hash of a
   fixed text) is written under OUT, so a later run with another key is refused.
2. ``OUT/state/hash_key.json``, made at the first scan into OUT from 32 random bytes (mode 0600):
   counts merge within the corpus and across re-runs into the same folder; copy the file to share
   the key.

Outside a scan (``factsep.detect``, the datatrove, Dolma and spaCy adapters, whose ranks run in
separate processes but must count values together) there is no OUT: the key is then
``FACTSEP_HASH_KEY``'s, else the user's own, made on first use in
``$XDG_CONFIG_HOME/factsep/hash_key.json`` (``~/.config``; mode 0600), so every process of one
user on one machine agrees. Ranks on several machines need ``FACTSEP_HASH_KEY``.

The key is never logged or printed; errors name the file or the variable, never the key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import tempfile
from pathlib import Path

from factsep.errors import UsageError
from factsep.io import fs as outfs
from factsep.io.layout import layout

ENV = "FACTSEP_HASH_KEY"
KEY_FILE = "hash_key.json"
_CHECK = b"factsep value-hash key check"


class HashKeyError(UsageError):
    """The value-hash key of OUT and the one this run would use disagree; the message says how."""


def key_path(out: str | Path) -> str:
    return layout(out).hash_key


def key_from_text(text: str) -> bytes:
    """A 32-byte key from a user's text (a stretched hash, so a short passphrase costs more)."""
    return hashlib.pbkdf2_hmac("sha256", text.encode("utf-8"), b"factsep value_hash", 100_000)


def check_value(key: bytes) -> str:
    """What OUT records of an outside key: a keyed hash of a fixed text, which reveals nothing."""
    return hashlib.blake2b(_CHECK, key=key, digest_size=16).hexdigest()


def _write_new(path: str, record: dict[str, str]) -> bool:
    """Create ``path`` with ``record`` unless it exists (False then); atomic, owner-only."""
    data = json.dumps(record, sort_keys=True).encode("utf-8")
    if outfs.is_remote(path):
        if outfs.exists(path):
            return False
        with outfs.open_file(path, "wb") as fh:
            fh.write(data)
        return True
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".hash_key.", dir=folder)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # never replaces: two first scans agree on one key
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _read(path: str) -> dict[str, str] | None:
    if not outfs.exists(path):
        return None
    try:
        record = json.loads(outfs.read_bytes(path).decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise HashKeyError(f"{path} is unreadable ({type(exc).__name__}); restore it from a copy, or "
                           "re-scan into a fresh folder (value hashes there would not match)") from exc
    if not isinstance(record, dict):
        raise HashKeyError(f"{path} is not a key record; restore it from a copy")
    return record


def key_for_out(out: str | Path, create: bool = True) -> bytes:
    """The key that hashes values in OUT (see the module docs); made at first use with ``create``."""
    path = key_path(out)
    env = os.environ.get(ENV)
    if env:
        key = key_from_text(env)
        record = _read(path)
        if record is None and create and _write_new(path, {"source": "env", "check": check_value(key)}):
            return key
        record = record or _read(path) or {}
        if record.get("source") == "env" and record.get("check") == check_value(key):
            return key
        if record.get("source") == "env":
            raise HashKeyError(f"{ENV} is not the key {out} was hashed with (its check in {path} differs): "
                               "set the same key, or scan into a fresh folder")
        if not record:
            return key
        raise HashKeyError(f"{out} hashes values with its own key ({path}); unset {ENV} to use it, or "
                           "scan into a fresh folder to use the shared key")
    record = _read(path)
    if record is None:
        if not create:
            raise HashKeyError(f"no value-hash key in {path}: run `factsep scan` into {out} first")
        _write_new(path, {"source": "state", "key": secrets.token_hex(32)})
        record = _read(path) or {}
    if record.get("source") == "env":
        raise HashKeyError(f"{out} was hashed with the key in {ENV}; set it (the same text) and run again")
    try:
        return bytes.fromhex(str(record["key"]))
    except (KeyError, ValueError) as exc:
        raise HashKeyError(f"{path} holds no valid key; restore it from a copy") from exc


def user_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "factsep" / KEY_FILE


def default_key() -> bytes:
    """The key without an OUT: ``FACTSEP_HASH_KEY``'s, else the user's (made on first use)."""
    env = os.environ.get(ENV)
    if env:
        return key_from_text(env)
    path = str(user_key_path())
    record = _read(path)
    if record is None:
        _write_new(path, {"source": "state", "key": secrets.token_hex(32)})
        record = _read(path) or {}
    try:
        return bytes.fromhex(str(record["key"]))
    except (KeyError, ValueError) as exc:
        raise HashKeyError(f"{path} holds no valid key; delete it (a new one is made) or set {ENV}") from exc


def activate(out: str | Path, create: bool = True) -> None:
    """Hash values with OUT's key in this process from now on (scan, route, sync call this)."""
    from factsep.span import use_hash_key

    use_hash_key(key_for_out(out, create=create))
