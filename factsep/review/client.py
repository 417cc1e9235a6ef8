"""A Label Studio client that survives a flaky server: retries with backoff, then one clear error.

Wraps label-studio-sdk 2.x. The SDK's own retries are switched off so every call goes through
:meth:`ReviewClient.call`, which retries connection errors, timeouts and 5xx/429 answers with
exponential backoff and then raises :class:`ReviewServerError` naming the operation and the URL
(never the key). The key comes from ``LABEL_STUDIO_API_KEY`` or a Prefect Secret block.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from xml.sax.saxutils import escape

import httpx

from factsep.errors import FactsepError
from factsep.review.labelconfig import INSTRUCTIONS

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_SECRET_BLOCK = "label-studio-api-key"
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class ReviewError(FactsepError, RuntimeError):
    """A review step cannot go on (configuration, a refused request); the message says why."""


class ReviewServerError(ReviewError):
    """The server stayed unreachable or kept failing after all retries."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying: ``attempts`` calls, sleeping base * 2**i (capped, with jitter)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    timeout: float = 30.0

    def delay(self, attempt: int) -> float:
        d = min(self.max_delay, self.base_delay * (2**attempt))
        return d * (0.75 + 0.5 * random.random())


def resolve_api_key(secret_block: str | None = None) -> str | None:
    """The API key: LABEL_STUDIO_API_KEY, else a Prefect Secret block (Prefect imported only then).

    The block is ``FACTSEP_LS_SECRET_BLOCK`` (default ``label-studio-api-key``), looked up when
    that variable or ``PREFECT_API_URL`` is set.
    """
    key = os.environ.get("LABEL_STUDIO_API_KEY")
    if key:
        return key
    explicit = secret_block or os.environ.get("FACTSEP_LS_SECRET_BLOCK")
    if not explicit and not os.environ.get("PREFECT_API_URL"):
        return None  # no Prefect server to ask (an ephemeral one would take seconds to start)
    name = explicit or DEFAULT_SECRET_BLOCK
    try:
        from prefect.blocks.system import Secret
    except ImportError:
        return None
    try:
        value = Secret.load(name).get()
    except Exception:  # no Prefect server, no such block: fall through to "no key"
        return None
    return str(value) if value else None


def _status_of(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    if isinstance(code, int):
        return code
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code
    return None


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: the network, a timeout, or the server saying it is busy or broken."""
    if isinstance(exc, (httpx.TransportError, TimeoutError, ConnectionError)):
        return True
    status = _status_of(exc)
    return status is not None and status in RETRY_STATUS


class ReviewClient:
    """The calls factsep makes to Label Studio, each one retried as a unit."""

    def __init__(
        self,
        url: str,
        api_key: str,
        policy: RetryPolicy | None = None,
        httpx_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from label_studio_sdk import LabelStudio

        self.url = url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self.sdk = LabelStudio(
            base_url=self.url,
            api_key=api_key,
            timeout=self.policy.timeout,
            max_retries=0,
            httpx_client=httpx_client,
        )

    def __repr__(self) -> str:  # the key never shows up in logs or tracebacks
        return f"ReviewClient(url={self.url!r})"

    @classmethod
    def from_env(cls, url: str | None = None, policy: RetryPolicy | None = None) -> ReviewClient:
        url = url or os.environ.get("LABEL_STUDIO_URL")
        if not url:
            raise ReviewError("LABEL_STUDIO_URL is not set")
        key = resolve_api_key()
        if not key:
            raise ReviewError(
                "no Label Studio API key: set LABEL_STUDIO_API_KEY or create a Prefect Secret block "
                f"named {os.environ.get('FACTSEP_LS_SECRET_BLOCK', DEFAULT_SECRET_BLOCK)!r}"
            )
        return cls(url, key, policy=policy)

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run ``fn``, retrying transient failures with backoff; then fail with a clear message."""
        last: BaseException | None = None
        for attempt in range(self.policy.attempts):
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - classified below
                if not is_transient(exc):
                    status = _status_of(exc)
                    body = getattr(exc, "body", None)
                    raise ReviewError(
                        f"Label Studio refused {what} (HTTP {status}): {str(body)[:300]}"
                    ) from exc
                last = exc
                if attempt + 1 < self.policy.attempts:
                    delay = self.policy.delay(attempt)
                    log.warning(
                        "Label Studio %s failed (%s); retry %d/%d in %.1fs",
                        what, type(exc).__name__, attempt + 1, self.policy.attempts - 1, delay,
                    )
                    self._sleep(delay)
        status = _status_of(last) if last else None
        reason = f"HTTP {status}" if status else type(last).__name__
        raise ReviewServerError(
            f"Label Studio at {self.url} failed {what} {self.policy.attempts} times ({reason}); "
            "is the server up? (scripts/label-studio.sh status). Nothing was half-written: "
            "re-run the same command to resume."
        ) from last

    # ---- the operations -------------------------------------------------------------------------

    def check(self) -> None:
        """Fail early and clearly if the server is down or the key is wrong."""
        self.call("whoami", lambda: self.sdk.users.whoami())

    def find_project(self, title: str) -> int | None:
        def run() -> int | None:
            for p in self.sdk.projects.list(title=title):
                if getattr(p, "title", None) == title:
                    return int(p.id)
            return None

        return self.call("list projects", run)

    def ensure_project(self, title: str, label_config: str, overlap: int = 1, model_version: str | None = None) -> int:
        """Reuse the project with this title (updating its config if it changed) or create it.

        ``model_version``: the new project's active model version, whose predictions Label
        Studio shows annotators (predictions shown). An existing project's is moved by
        :meth:`set_model_version` once predictions of the new version exist (the server refuses
        a version no prediction has).
        """
        pid = self.find_project(title)
        shown = {"model_version": model_version, "show_collab_predictions": True} if model_version else {}
        if pid is None:
            project = self.call(
                "create project",
                lambda: self.sdk.projects.create(
                    title=title,
                    label_config=label_config,
                    description="Spans factsep is unsure of, with every fact it found in the window.",
                    expert_instruction="".join(f"<p>{escape(line)}</p>" for line in INSTRUCTIONS),
                    show_instruction=True,
                    maximum_annotations=overlap,
                    show_skip_button=True,
                    enable_empty_annotation=True,
                    **shown,
                ),
            )
            return int(project.id)
        current = self.call("get project", lambda: self.sdk.projects.get(pid))
        if (getattr(current, "label_config", None) or "").strip() != label_config.strip():
            self.call("update label config", lambda: self.sdk.projects.update(pid, label_config=label_config))
        if shown and getattr(current, "show_collab_predictions", True) is False:
            self.call("show predictions", lambda: self.sdk.projects.update(pid, show_collab_predictions=True))
        return pid

    def set_model_version(self, project_id: int, model_version: str) -> bool:
        """Make ``model_version`` the project's active one (its predictions are shown); True if
        it changed. Some task must already hold a prediction of that version."""
        current = self.call("get project", lambda: self.sdk.projects.get(project_id))
        if getattr(current, "model_version", None) == model_version:
            return False
        self.call("set model version", lambda: self.sdk.projects.update(project_id, model_version=model_version))
        return True

    def validate_config(self, project_id: int, label_config: str) -> None:
        self.call(
            "validate label config",
            lambda: self.sdk.projects.validate_label_config(project_id, label_config=label_config),
        )

    def import_tasks(self, project_id: int, tasks: Sequence[dict[str, Any]]) -> list[int]:
        """Import one batch; returns the new task ids in order."""
        resp = self.call(
            f"import {len(tasks)} tasks",
            lambda: self.sdk.projects.import_tasks(project_id, request=list(tasks), return_task_ids=True),
        )
        ids = list(getattr(resp, "task_ids", None) or [])
        if len(ids) != len(tasks):
            raise ReviewError(f"import returned {len(ids)} task ids for {len(tasks)} tasks")
        return [int(i) for i in ids]

    def restore_predictions(self, project_id: int, wanted: dict[int, dict[str, Any]]) -> int:
        """Re-create pre-annotations the server lost; returns how many were missing.

        Label Studio 1.23 sometimes stores an imported task without its prediction (seen under
        concurrent imports). An annotator would then not see the spans asked about, and sync
        would read their silence as rejections, so every import is checked.
        """
        missing = [
            int(t["id"]) for t in self.iter_tasks(project_id)
            if int(t["id"]) in wanted and not (t.get("predictions") or t.get("total_predictions"))
        ]
        self.create_predictions({tid: wanted[tid] for tid in missing})
        return len(missing)

    def create_predictions(self, predictions: dict[int, dict[str, Any]]) -> None:
        """Create one prediction per task id (its ``result``, ``model_version`` and ``score``)."""
        for tid, p in predictions.items():
            self.call(
                f"create prediction of task {tid}",
                lambda p=p, tid=tid: self.sdk.predictions.create(
                    task=tid, result=p["result"], model_version=p["model_version"], score=p.get("score")
                ),
            )

    def get_task(self, task_id: int) -> dict[str, Any]:
        """One task with all its annotations (as :meth:`iter_tasks` lists them)."""
        return _model_dict(self.call(f"get task {task_id}", lambda: self.sdk.tasks.get(str(task_id))))

    def iter_tasks(self, project_id: int, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every task of the project with its annotations, one page per retried request.

        Pages are fetched with explicit page numbers so a retry repeats only the failed page.
        (``only_annotated`` is not used: Label Studio 1.23 returns unannotated tasks anyway.)
        """
        page = 1
        while True:
            def fetch(page: int = page) -> list[dict[str, Any]] | None:
                try:
                    pager = self.sdk.tasks.list(
                        project=project_id, fields="all", page=page, page_size=page_size
                    )
                except Exception as exc:
                    if _status_of(exc) == 404:  # past the last page
                        return None
                    raise
                return [t if isinstance(t, dict) else _model_dict(t) for t in pager.items or []]

            items = self.call(f"list tasks page {page}", fetch)
            if not items:
                return
            yield from items
            if len(items) < page_size:
                return
            page += 1


def _model_dict(obj: Any) -> dict[str, Any]:
    if hasattr(obj, "model_dump"):
        return obj.model_dump()
    return dict(obj)
