"""Value hashes are keyed (issue 17.7): nobody without the key can test a guessed phone number or
date of birth against a hash; counts still merge within a corpus and across runs sharing a key."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from factsep.hashkey import ENV, HashKeyError, key_for_out

ROOT = Path(__file__).resolve().parents[1]
#: Two documents that share a phone number, one with a date of birth.
DOCS = [
    {"id": "a", "text": "Ring the front desk on +1 415 555 0123 before noon, please."},
    {"id": "b", "text": "Our office line is +1 415 555 0123; Mia was born on 14 March 1987 in Leeds."},
]


def _scan(tmp: Path, name: str, env: dict[str, str] | None = None) -> tuple[Path, subprocess.CompletedProcess[str]]:
    src = tmp / "in.jsonl"
    if not src.exists():
        src.write_text("".join(json.dumps(d) + "\n" for d in DOCS), encoding="utf-8")
    out = tmp / name
    run_env = {k: v for k, v in os.environ.items() if k != ENV}
    run_env.update(env or {}, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-m", "factsep", "scan", str(src), "--out", str(out)],
                         capture_output=True, text=True, env=run_env, cwd=ROOT, timeout=600)
    return out, res


def _spans(out: Path) -> pl.DataFrame:
    return pl.read_parquet(str(out / "spans" / "part-*.parquet"))


def _unkeyed(kind: str, normalized: str) -> str:
    """The hash an attacker can compute: blake2b of kind and value, no key (what it used to be)."""
    h = hashlib.blake2b(digest_size=16)
    for part in (kind, normalized):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


def test_hashes_cannot_be_tried_without_the_key_and_counts_still_merge(tmp_path: Path) -> None:
    out, res = _scan(tmp_path, "one")
    assert res.returncode == 0, res.stderr
    spans = _spans(out)
    phones = spans.filter(pl.col("kind") == "phone_number")
    assert phones.height == 2 and phones["value_hash"].n_unique() == 1  # merged within the corpus
    assert set(phones["corpus_count"]) == {2}
    # an attacker who guesses the value (here: knows it) cannot confirm it from the hash
    guesses = [("phone_number", g) for g in ("+14155550123", "+1 415 555 0123", "14155550123")]
    guesses += [("date_of_birth", g) for g in ("1987-03-14", "14 March 1987", "19870314")]
    guesses += [(k, t) for k, t in zip(spans["kind"], spans["text"], strict=True)]
    for kind, guess in guesses:
        assert _unkeyed(kind, guess) not in set(spans["value_hash"]), kind
    # the secret is under OUT/state, owner-only, and never in what the scan printed
    path = out / "state" / "hash_key.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["source"] == "state" and len(bytes.fromhex(record["key"])) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert record["key"] not in res.stdout + res.stderr
    # a re-scan into the same folder keeps the key, so hashes (and counts) stay the same
    again, res2 = _scan(tmp_path, "one")
    assert res2.returncode == 0, res2.stderr
    assert sorted(_spans(again)["value_hash"]) == sorted(spans["value_hash"])
    # another corpus folder gets its own key: the same value does not link the two
    other, _ = _scan(tmp_path, "two")
    assert set(_spans(other)["value_hash"]).isdisjoint(spans["value_hash"])


def test_a_shared_key_merges_across_folders_and_a_wrong_one_is_refused(tmp_path: Path) -> None:
    shared = {ENV: "correct horse battery staple"}
    first, res1 = _scan(tmp_path, "x", shared)
    second, res2 = _scan(tmp_path, "y", shared)
    assert res1.returncode == 0 and res2.returncode == 0, res1.stderr + res2.stderr
    assert sorted(_spans(first)["value_hash"]) == sorted(_spans(second)["value_hash"])
    record = json.loads((first / "state" / "hash_key.json").read_text(encoding="utf-8"))
    assert record["source"] == "env" and "key" not in record  # only a check value is kept
    assert shared[ENV] not in json.dumps(record)
    wrong, res3 = _scan(tmp_path, "x", {ENV: "another passphrase"})
    assert res3.returncode == 2 and ENV in res3.stderr and "Traceback" not in res3.stderr
    assert "another passphrase" not in res3.stderr
    # a folder with its own key refuses a shared one, and the other way round
    own, _ = _scan(tmp_path, "z")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV, "correct horse battery staple")
        with pytest.raises(HashKeyError, match="its own key"):
            key_for_out(own)
        mp.delenv(ENV)
        with pytest.raises(HashKeyError, match=ENV):
            key_for_out(first)


def test_without_an_out_processes_of_one_user_share_a_key(tmp_path: Path) -> None:
    """The adapters' ranks run in separate processes with no OUT: they must agree (counts merge)."""
    code = ("import factsep;"
            "print([s.value_hash for s in factsep.detect('Ring +1 415 555 0123 today.')][0])")
    env = {k: v for k, v in os.environ.items() if k != ENV}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "cfg"), PYTHONPATH=str(ROOT))
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                           timeout=300) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    first, second = (r.stdout.strip().splitlines()[-1] for r in runs)
    assert first == second and first != _unkeyed("phone_number", "+14155550123")
    path = tmp_path / "cfg" / "factsep" / "hash_key.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_shard_hashed_with_another_key_is_scanned_again(tmp_path: Path) -> None:
    # An OUT whose key changed (or one scanned before keyed hashes, which has no key record) must
    # not resume its shards: their hashes would never merge with the new ones.
    out, res = _scan(tmp_path, "o", {ENV: "first shared key"})
    assert res.returncode == 0, res.stderr
    before = set(_spans(out)["value_hash"])
    (out / "state" / "hash_key.json").unlink()
    again = subprocess.run([sys.executable, "-m", "factsep", "scan", str(tmp_path / "in.jsonl"), "--out", str(out),
                            "--json"], capture_output=True, text=True, cwd=ROOT, timeout=600,
                           env={**{k: v for k, v in os.environ.items() if k != ENV}, ENV: "second shared key",
                                "PYTHONPATH": str(ROOT)})
    assert again.returncode == 0, again.stderr
    after = set(_spans(out)["value_hash"])
    assert after and not (after & before), "shards kept the old key's hashes"
