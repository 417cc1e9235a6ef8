"""Inputs and outputs on object storage: a real S3 API (moto's server on 127.0.0.1), s3fs, fsspec.

Every S3 request goes to the server this module starts; credentials are fake and explicit, so
nothing reaches the internet (no instance metadata, no shared AWS config).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import prefect_fixtures
import pyarrow.parquet as pq
import pytest
from prefect_fixtures import artifacts_of, prefect_harness, read_dataset, write_corpus  # noqa: F401

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

from factsep.io import fs as outfs  # noqa: E402
from factsep.scan import ScanConfig, scan  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
prefect_server = prefect_fixtures.prefect_server
dask_cluster = prefect_fixtures.dask_cluster

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "factsep-test",
    "AWS_SECRET_ACCESS_KEY": "factsep-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    # a request that missed the endpoint would fail on a dead local proxy, not reach the internet
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 (a free port), with fake credentials in the environment."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    saved = {k: os.environ.get(k) for k in FAKE_ENV}
    os.environ.update(FAKE_ENV)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        outfs._OPTIONS.pop("s3", None)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def options(endpoint: str) -> dict[str, Any]:
    """What a user puts in ``[scan] storage_options``: endpoint and (here fake) credentials."""
    return {"endpoint_url": endpoint, "key": FAKE_ENV["AWS_ACCESS_KEY_ID"], "secret": FAKE_ENV["AWS_SECRET_ACCESS_KEY"]}


def s3(endpoint: str) -> Any:
    import s3fs

    return s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False, **options(endpoint))


@pytest.fixture()
def bucket(s3_endpoint: str) -> str:
    """A fresh bucket per test (the server's state lives as long as the module)."""
    name = f"factsep-{uuid.uuid4().hex[:10]}"
    s3(s3_endpoint).mkdir(name)
    return name


def upload_corpus(endpoint: str, local: Path, url: str) -> None:
    fs = s3(endpoint)
    for p in sorted(local.iterdir()):
        fs.put_file(str(p), f"{url.removeprefix('s3://')}/{p.name}")


def s3_dataset(endpoint: str, out: str) -> list[dict[str, Any]]:
    fs = s3(endpoint)
    rows: list[dict[str, Any]] = []
    for key in sorted(fs.glob(f"{out.removeprefix('s3://')}/dataset/part-*.parquet")):
        with fs.open(key, "rb") as fh:
            rows.extend(pq.read_table(fh).to_pylist())
    return sorted(rows, key=lambda r: str(r["id"]))


def keys(endpoint: str, out: str) -> list[str]:
    root = out.removeprefix("s3://")
    return sorted(k[len(root) + 1 :] for k in s3(endpoint).find(root))


def config_file(tmp_path: Path, endpoint: str) -> Path:
    opts = options(endpoint)
    inline = ", ".join(f'{k} = "{v}"' for k, v in opts.items())
    path = tmp_path / "factsep.toml"
    path.write_text(f"[scan]\nstorage_options = {{ {inline} }}\n", encoding="utf-8")
    return path


def bad_line_corpus(tmp_path: Path) -> Path:
    corpus = write_corpus(tmp_path / "in", files=3, docs=8)
    with open(corpus / "part1.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"id": "broken", "text": \n')  # one record to quarantine
    return corpus


# ---------------------------------------------------------------------------------------- scan


def test_scan_s3_in_s3_out_equals_local(
    s3_endpoint: str, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a URL folded into a local path ("s3:/...") would appear here
    corpus = bad_line_corpus(tmp_path)
    local = scan([str(corpus)], str(tmp_path / "local"))
    src, out = f"s3://{bucket}/corpus", f"s3://{bucket}/runs/one"
    upload_corpus(s3_endpoint, corpus, src)

    from typer.testing import CliRunner

    from factsep.cli import app

    cfg = config_file(tmp_path, s3_endpoint)
    res = CliRunner().invoke(app, ["scan", src, "--out", out, "--config", str(cfg), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output[res.output.index("{") :])
    assert summary["out"] == out and summary["manifest"] == f"{out}/manifest.json"
    for key in ("read", "written", "quarantined", "spans", "facts", "monofact_rate", "kinds"):
        assert summary[key] == getattr(local, key), key
    assert summary["written"] == 24 and summary["quarantined"] == 1

    remote_rows = s3_dataset(s3_endpoint, out)
    assert remote_rows == read_dataset(tmp_path / "local")
    # corpus counts are aggregated over all shards: a value in every file is no singleton
    isbn = [s for r in remote_rows for s in r["random_facts"] if s["kind"] == "isbn"]
    assert isbn and {s["corpus_count"] for s in isbn} == {24}

    written = keys(s3_endpoint, out)
    shard_ids = sorted(p.name[len("part-") : -len(".parquet")] for p in (tmp_path / "local" / "dataset").iterdir())
    assert len(shard_ids) == 3
    assert {"manifest.json", "state/run.json", "state/counts.parquet"} <= set(written)
    assert sum(k.startswith("state/shards/") for k in written) == 3
    assert sum(k.startswith("dataset/part-") for k in written) == 3
    assert sum(k.startswith("spans/part-") for k in written) == 3
    assert [k for k in written if k.startswith("quarantine/")] == [
        k for k in written if k.startswith("quarantine/part-part1.jsonl-")
    ] != []
    assert not [k for k in written if ".tmp-" in k]  # no staging object was ever published
    fs = s3(s3_endpoint)
    run_state = fs.cat_file(f"{bucket}/runs/one/state/run.json").decode()
    manifest = json.loads(fs.cat_file(f"{bucket}/runs/one/manifest.json"))
    assert "factsep-test-secret" not in run_state and "endpoint_url" not in run_state  # no credentials in OUT
    assert "factsep-test-secret" not in json.dumps(manifest)
    assert manifest["counts"]["written"] == 24 and manifest["inputs"][0]["url"].startswith(f"s3://{bucket}/corpus/")
    assert not (tmp_path / "s3:").exists()

    # a command that takes only OUT finds the store through the environment (fsspec's own config)
    env = {**os.environ, **FAKE_ENV, "FSSPEC_S3_ENDPOINT_URL": s3_endpoint, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "factsep", "report", out, "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout[done.stdout.index("{") :])
    assert report["html"] == f"{out}/report.html" and report["documents"] == 24
    assert b"<html" in fs.cat_file(f"{bucket}/runs/one/report.html")[:200].lower()

    # export reads OUT from the store and writes its file there too
    from factsep.export import ExportConfig, export

    remote = export(out, f"s3://{bucket}/exports/", ExportConfig(format="tagged"))
    local_export = export(tmp_path / "local", tmp_path / "tagged.parquet", ExportConfig(format="tagged"))
    assert remote.path == f"s3://{bucket}/exports/tagged.parquet" and remote.rows == local_export.rows == 24
    with fs.open(f"{bucket}/exports/tagged.parquet", "rb") as fh:
        exported = pq.read_table(fh).sort_by("id")
    assert exported.equals(pq.read_table(local_export.path).sort_by("id"))


def test_killed_s3_run_resumes_and_leaves_nothing_torn(
    s3_endpoint: str, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import factsep.scan as scan_mod

    corpus = write_corpus(tmp_path / "in", files=3, docs=8)
    scan([str(corpus)], str(tmp_path / "local"))
    out = f"s3://{bucket}/runs/resume"
    cfg = ScanConfig(storage_options=options(s3_endpoint))

    # die while writing the second shard's docs part: after its span rows, before its marker
    real = scan_mod._write_dataset
    calls = {"n": 0}

    def dying(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        real(*args, **kwargs)

    monkeypatch.setattr(scan_mod, "_write_dataset", dying)
    with pytest.raises(KeyboardInterrupt):
        scan([str(corpus)], out, cfg)
    written = keys(s3_endpoint, out)
    assert sum(k.startswith("state/shards/") for k in written) == 1  # the first shard is done
    assert sum(k.startswith("state/docs/part-") for k in written) == 1
    assert sum(k.startswith("state/detections/part-") for k in written) == 1  # the killed shard wrote nothing
    # the dataset and span parts are materialized once, when every shard is done
    assert not [k for k in written if k.startswith(("dataset/", "spans/"))]
    assert "manifest.json" not in written and not [k for k in written if ".tmp-" in k]

    monkeypatch.setattr(scan_mod, "_write_dataset", real)
    again = scan([str(corpus)], out, cfg)
    assert again.shards == 3 and again.shards_resumed == 1
    assert s3_dataset(s3_endpoint, out) == read_dataset(tmp_path / "local")
    third = scan([str(corpus)], out, cfg)
    assert third.shards_resumed == 3 and s3_dataset(s3_endpoint, out) == read_dataset(tmp_path / "local")


def test_review_state_on_s3_is_refused_with_what_to_do(s3_endpoint: str, bucket: str) -> None:
    from factsep import orchestration as orch
    from factsep.decisions import Decision, append_decisions

    out = f"s3://{bucket}/runs/review"
    for call in (lambda: orch.run_route(out), lambda: orch.run_sync(out)):
        with pytest.raises(outfs.LocalOutRequired, match="--no-route"):
            call()
    with pytest.raises(outfs.LocalOutRequired, match="local or shared"):
        append_decisions(out, [Decision("s1", "human_accept", "k")])
    from typer.testing import CliRunner

    from factsep.cli import app

    for command in ("route", "sync"):
        res = CliRunner().invoke(app, [command, out])
        assert res.exit_code == 2 and "--no-route" in res.output, res.output
    assert keys(s3_endpoint, out) == []


def test_any_fsspec_out_and_out_inside_the_input_prefix(tmp_path: Path) -> None:
    """Not S3-specific: an in-memory store works the same, and OUT under the input prefix is skipped."""
    import fsspec

    corpus = write_corpus(tmp_path / "in", files=2, docs=4)
    local = scan([str(corpus)], str(tmp_path / "local"))
    mem = fsspec.filesystem("memory")
    root = f"/factsep-{uuid.uuid4().hex[:8]}"
    for p in sorted(corpus.iterdir()):
        mem.put_file(str(p), f"{root}/corpus/{p.name}")
    src, out = f"memory://{root}/corpus", f"memory://{root}/corpus/out"
    first = scan([src], out)
    again = scan([src], out)  # OUT's own files are not inputs
    assert first.shards == again.shards == again.shards_resumed == 2
    assert first.written == local.written and first.kinds == local.kinds
    assert not [k for k in mem.find(root) if ".tmp-" in k]


# --------------------------------------------------------------------------------------- flows


@pytest.mark.usefixtures("prefect_harness")
def test_pipeline_flow_on_a_process_pool_writes_everything_to_s3(
    s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    from flows.pipeline_flow import pipeline_flow

    corpus = write_corpus(tmp_path / "in", files=2, docs=6)
    scan([str(corpus)], str(tmp_path / "local"))
    src, out = f"s3://{bucket}/corpus", f"s3://{bucket}/runs/flow"
    upload_corpus(s3_endpoint, corpus, src)
    cfg = config_file(tmp_path, s3_endpoint)
    state = pipeline_flow([src], out, config_path=str(cfg), workers=2, return_state=True)
    assert state.is_completed(), state.message
    result = state.result()
    assert result["runner"] == "ProcessPoolTaskRunner(2)"
    assert result["scan"]["written"] == 12 and result["report"]["documents"] == 12
    assert result["route"]["skipped"] and "object store" in result["route"]["message"]
    assert result["report_html"] == f"{out}/report.html"
    assert s3_dataset(s3_endpoint, out) == read_dataset(tmp_path / "local")
    written = set(keys(s3_endpoint, out))
    assert {"manifest.json", "report.html", "report.md", "state/flow_epoch", "state/run.json"} <= written
    assert not (tmp_path / "s3:").exists() and not Path("s3:").exists()
    arts = artifacts_of(state.state_details.flow_run_id)
    assert f"{out}/report.html" in arts["factsep-pipeline"].data
    assert "factsep-test-secret" not in arts["factsep-pipeline"].data

    again = pipeline_flow([src], out, config_path=str(cfg), workers=2, return_state=True)
    assert again.is_completed(), again.message
    assert s3_dataset(s3_endpoint, out) == read_dataset(tmp_path / "local")

    from flows.route_flow import route_flow

    refused = route_flow(out, return_state=True)
    assert refused.is_failed() and "--no-route" in str(refused.message)


@pytest.mark.slow
def test_dask_cluster_reads_and_writes_s3(
    prefect_server: dict[str, str], dask_cluster: str, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.scan_flow import scan_flow

    corpus = write_corpus(tmp_path / "in", files=3, docs=8)
    scan([str(corpus)], str(tmp_path / "local"))
    src, out = f"s3://{bucket}/corpus", f"s3://{bucket}/runs/dask"
    upload_corpus(s3_endpoint, corpus, src)
    with temporary_settings(updates={PREFECT_API_URL: prefect_server["PREFECT_API_URL"]}):
        state = scan_flow(
            [src],
            out,
            config_path=str(config_file(tmp_path, s3_endpoint)),
            dask_address=dask_cluster,
            artifacts=False,
            return_state=True,
        )
    assert state.is_completed(), state.message
    result = state.result()
    assert result["runner"].startswith("DaskTaskRunner")
    assert s3_dataset(s3_endpoint, out) == read_dataset(tmp_path / "local")
    assert sum(k.startswith("state/shards/") for k in keys(s3_endpoint, out)) == 3
