"""A Label Studio ML backend: factsep's pre-annotations for any task, decisions on every annotation.

Label Studio calls an ML backend over HTTP (the protocol of the ``label-studio-ml`` package):
``GET /health``; ``POST /setup`` (answers the model version); ``POST /predict`` with tasks
(answers one prediction per task); ``POST /webhook`` with annotation events
(``ANNOTATION_CREATED``, ``ANNOTATION_UPDATED``, ``ANNOTATION(S)_DELETED``, ``START_TRAINING``);
``POST /train`` with every annotated task (older servers, or "start training").

*Predict* runs the detector the scan of OUT ran (its ``[detect]`` settings from
``OUT/state/run.json`` and the calibration it applied), so a task someone imported by hand gets
the same regions and scores route would have sent, under the same ``model_version``
(:mod:`factsep.review.versions`) and with the routing priority as the prediction score.
Auto-rejected spans are left out, as route leaves them out.

*Fit* does what sync does for the tasks an event touched: the task is fetched again with all its
annotations (every annotator's vote counts, as in sync) and goes through sync's one interpreter
(:func:`factsep.review.sync.apply_tasks`): decisions that change what is in force are appended to
the ledger, strata are refitted, the parts rewritten and the calibration refitted. Events are
queued and fitted on one worker thread (Label Studio waits about a second for a webhook answer);
events that arrive while a fit runs are fitted together, and a fit that fails is tried again.
The refitted calibration is for the next scan; predictions keep the scan's scores until OUT is
scanned again (then the model version changes), so they agree with the spans and ledger in OUT.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from factsep.io.layout import layout
from factsep.review.client import ReviewClient, ReviewError
from factsep.review.config import ReviewConfig, review_config
from factsep.review.data import require_scan
from factsep.review.sync import SyncResult, apply_tasks
from factsep.review.tasks import prediction, task_text
from factsep.review.versions import applied_calibration, model_version
from factsep.run import state as run_state
from factsep.span import AUTO_REJECT

log = logging.getLogger(__name__)

#: Events that carry new votes (label-studio-ml's names, and Label Studio's webhook actions).
ANNOTATION_EVENTS = frozenset({
    "ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED", "ANNOTATION_DELETED",
    "ANNOTATIONS_DELETED",
})
TRAIN_EVENT = "START_TRAINING"
#: The webhook actions :func:`connect` subscribes the backend to.
WEBHOOK_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED")
DEFAULT_TITLE = "factsep"


class FactsepModel:
    """The scan's detector and OUT's ledger behind the ML backend protocol."""

    def __init__(self, out: str | Path, config: Any = None) -> None:
        require_scan(out)
        self.out = Path(out)
        self.cfg: ReviewConfig = review_config(config)
        self._lock = threading.Lock()  # the detector: one prediction at a time
        self._fit_lock = threading.Lock()  # one fit at a time (a prediction does not wait for it)
        self._stamp: tuple[int, int] | None = None
        self._detector: Any = None
        self._version = model_version(None)

    def _load(self) -> None:
        """(Re)build the detector when ``OUT/state/run.json`` changed (a re-scan)."""
        run = Path(layout(self.out).run_file)
        try:
            st = run.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = (0, 0)
        if stamp == self._stamp and self._detector is not None:
            return
        from factsep.config import DetectorConfig, load_section
        from factsep.detection.detector import Detector
        from factsep.detection.scoring import Calibration

        detect = run_state.section(self.out, "detect")
        detect["calibration_path"] = None  # applied below as the scan applied it, not as the file is now
        detector = Detector(load_section(DetectorConfig, detect))
        applied = applied_calibration(self.out)
        kinds = (applied or {}).get("kinds") if isinstance(applied, dict) else None
        detector.calibration = Calibration(
            {k: (v["x"], v["y"]) for k, v in (kinds or {}).items() if isinstance(v, dict) and v.get("x")}
        )
        self._detector, self._version, self._stamp = detector, model_version(applied), stamp

    @property
    def model_version(self) -> str:
        with self._lock:
            self._load()
            return self._version

    def predict(self, tasks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """One prediction per task, in order (an empty one for a task without text)."""
        with self._lock:
            self._load()
            results = []
            for task in tasks:
                text = task_text(task)
                if not isinstance(text, str):
                    results.append(prediction((), "", 0, self._version))  # no regions, score 0
                    continue
                spans = [s for s in self._detector.detect(text, str(task.get("id", "0"))) if s.decision != AUTO_REJECT]
                results.append(prediction(spans, text, 0, self._version))
            return results

    def fit(self, tasks: Sequence[dict[str, Any]]) -> SyncResult:
        """Record what these tasks' annotations settle, as sync would."""
        with self._fit_lock:
            return apply_tasks(self.out, tasks, self.cfg)


@dataclass
class FitStatus:
    """What the worker has done; shown by ``GET /health``."""

    events: int = 0
    fits: int = 0
    tasks_fitted: int = 0
    decisions_appended: int = 0
    pending: int = 0
    last_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Job:
    task_ids: set[int] = field(default_factory=set)
    tasks: list[dict[str, Any]] = field(default_factory=list)  # tasks as sent (no server to ask)
    projects: set[int] = field(default_factory=set)  # START_TRAINING: every task of the project


def _merge(a: _Job, b: _Job) -> _Job:
    return _Job(a.task_ids | b.task_ids, a.tasks + b.tasks, a.projects | b.projects)


class Fitter:
    """Queues annotation events and fits them on one worker thread.

    A fit that fails (Label Studio unreachable while the task is fetched, after the client's own
    retries) is kept and tried again with the next event, or after ``retry_after`` seconds, so a
    vote is not lost to an outage.
    """

    def __init__(
        self, model: FactsepModel, client: Callable[[], ReviewClient | None], retry_after: float = 30.0
    ) -> None:
        self.model = model
        self._client = client
        self.retry_after = retry_after
        self._failed: _Job | None = None
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self.status = FitStatus()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="factsep-fit", daemon=True)
        self._thread.start()

    def submit_event(self, payload: dict[str, Any]) -> bool:
        """Queue a webhook event; False if it is not one that carries votes."""
        action = str(payload.get("action") or "")
        job = _Job()
        if action == TRAIN_EVENT:
            pid = (payload.get("project") or {}).get("id")
            if pid is None:
                return False
            job.projects.add(int(pid))
        elif action in ANNOTATION_EVENTS:
            found = [payload.get("annotation")] + list(payload.get("annotations") or [])
            task = payload.get("task") if isinstance(payload.get("task"), dict) else None
            if task is not None and task.get("id") is not None:
                job.task_ids.add(int(task["id"]))
            for a in found:
                if isinstance(a, dict) and isinstance(a.get("task"), int):
                    job.task_ids.add(int(a["task"]))
            if task is not None and isinstance(payload.get("annotation"), dict) and "DELETED" not in action:
                # what to fit when no server can be asked: the task with this one annotation
                job.tasks.append({**task, "annotations": [payload["annotation"]]})
            if not job.task_ids and not job.tasks:
                return False
        else:
            return False
        self._put(job)
        return True

    def submit_tasks(self, tasks: list[dict[str, Any]]) -> None:
        """Queue tasks that come with their annotations (``POST /train``)."""
        self._put(_Job(tasks=list(tasks)))

    def _put(self, job: _Job) -> None:
        self._idle.clear()
        self.status.events += 1
        self.status.pending += 1
        self._queue.put(job)

    def _wake(self) -> None:
        """Queue nothing new: the worker then retries the failed fit."""
        self.status.pending += 1
        self._queue.put(_Job())

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued event is fitted (True) or ``timeout`` passes (False)."""
        return self._idle.wait(timeout)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _drain(self, first: _Job) -> tuple[_Job, int]:
        job, n = first, 1
        if self._failed is not None:  # what the last fit could not do goes first
            job, self._failed = _merge(self._failed, job), None
        while True:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                return job, n
            if more is None:
                self._queue.put(None)
                return job, n
            job = _merge(job, more)
            n += 1

    def _tasks(self, job: _Job) -> list[dict[str, Any]]:
        client = self._client()
        if client is None:
            # no server to ask: the tasks as the events sent them (one annotation each)
            by_id: dict[Any, dict[str, Any]] = {}
            for t in job.tasks:
                prev = by_id.get(t.get("id"))
                if prev is None:
                    by_id[t.get("id")] = dict(t)
                else:
                    prev["annotations"] = [*prev.get("annotations", []), *t.get("annotations", [])]
            return list(by_id.values())
        tasks: dict[int, dict[str, Any]] = {}
        for t in job.tasks:
            if t.get("annotations") is not None and t.get("id") is not None and int(t["id"]) not in job.task_ids:
                tasks[int(t["id"])] = t  # /train: sent whole
        for pid in job.projects:
            for t in client.iter_tasks(pid):
                tasks[int(t["id"])] = t
        for tid in sorted(job.task_ids - set(tasks)):
            tasks[tid] = client.get_task(tid)
        return list(tasks.values())

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            job, n = self._drain(first)
            try:
                if not (job.task_ids or job.tasks or job.projects):
                    continue  # a wake-up with nothing left to retry
                tasks = self._tasks(job)
                res = self.model.fit(tasks)
                self.status.fits += 1
                self.status.tasks_fitted += len(tasks)
                self.status.decisions_appended += res.decisions_appended
                self.status.last_error = None
                log.info("fitted %d event(s) over %d task(s): %d decision(s) appended",
                         n, len(tasks), res.decisions_appended)
            except Exception as exc:  # noqa: BLE001 - the server keeps serving; /health shows it
                self.status.last_error = f"{type(exc).__name__}: {exc}"[:500]
                self._failed = job
                log.error("fit failed (%s); tried again with the next event or in %.0f s",
                          type(exc).__name__, self.retry_after)
                timer = threading.Timer(self.retry_after, self._wake)
                timer.daemon = True
                timer.start()
            finally:
                self.status.pending -= n
                if self._queue.empty() and self._failed is None:
                    self._idle.set()


class MLBackend:
    """The HTTP server: Label Studio's ML backend protocol over :class:`FactsepModel`."""

    def __init__(
        self,
        out: str | Path,
        host: str = "127.0.0.1",
        port: int = 9090,
        config: Any = None,
        label_studio_url: str | None = None,
        client: ReviewClient | None = None,
    ) -> None:
        self.model = FactsepModel(out, config)
        self._ls_url = label_studio_url
        self._ls: ReviewClient | None = client  # else from LABEL_STUDIO_URL / _API_KEY at the first event
        self._ls_tried = client is not None
        self.fitter = Fitter(self.model, self._client)
        self.server = ThreadingHTTPServer((host, port), _handler(self))
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _client(self) -> ReviewClient | None:
        """The Label Studio client to fetch annotated tasks with, if a URL and key are set."""
        if not self._ls_tried:
            self._ls_tried = True
            try:
                self._ls = ReviewClient.from_env(self._ls_url)
            except ReviewError as exc:
                log.warning("no Label Studio to fetch tasks from (%s): each event's task is fitted with "
                            "the one annotation it carries", exc)
        return self._ls

    def health(self) -> dict[str, Any]:
        return {"status": "UP", "model_class": "factsep", "model_version": self.model.model_version,
                "fit": self.fitter.status.to_dict()}

    def start(self) -> MLBackend:
        """Serve on a background thread (tests, ``--connect``)."""
        self._thread = threading.Thread(target=self.server.serve_forever, name="factsep-ml-backend", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve until interrupted: on this thread, or by joining the one :meth:`start` began."""
        if self._thread is None:
            self.server.serve_forever()
        else:
            while self._thread.is_alive():
                self._thread.join(timeout=1.0)  # a timed join lets Ctrl-C through

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.fitter.stop()


def _handler(backend: MLBackend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "factsep-ml-backend"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            log.debug("%s %s", self.address_string(), format % args)  # paths only, never bodies

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            data = json.loads(raw or b"{}")
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object")
            return data

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0].rstrip("/")
            if path in ("", "/health"):
                self._send(200, backend.health())
            elif path == "/versions":
                self._send(200, {"versions": [backend.model.model_version], "message": ""})
            elif path == "/metrics":
                self._send(200, {})
            else:
                self._send(404, {"error": f"no such endpoint {path}"})

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0].rstrip("/")
            try:
                body = self._body()
            except ValueError as exc:
                self._send(400, {"error": f"the request body is not JSON: {exc}"})
                return
            try:
                if path == "/setup":
                    self._send(200, {"model_version": backend.model.model_version})
                elif path == "/predict":
                    tasks = body.get("tasks") or []
                    self._send(200, {"results": backend.model.predict(tasks)})
                elif path == "/webhook":
                    if backend.fitter.submit_event(body):
                        self._send(201, {"status": "ok", "queued": True})
                    else:
                        self._send(200, {"status": "Unknown event"})
                elif path == "/train":
                    backend.fitter.submit_tasks(list(body.get("annotations") or []))
                    self._send(201, {"status": "ok", "queued": True})
                elif path == "/validate":
                    self._send(200, {"status": "ok"})
                else:
                    self._send(404, {"error": f"no such endpoint {path}"})
            except Exception as exc:  # noqa: BLE001 - answer Label Studio instead of dropping the connection
                log.error("%s failed: %s", path, type(exc).__name__)
                self._send(500, {"error": f"{type(exc).__name__}: {exc}"[:500]})

    return Handler


def connect(client: ReviewClient, project_id: int, backend_url: str, title: str = DEFAULT_TITLE) -> dict[str, Any]:
    """Connect the backend to a project: as its ML backend (predictions) and as a webhook on
    annotation events (fit). Safe to repeat: what is already connected is kept."""
    try:
        return _connect(client, project_id, backend_url.rstrip("/"), title)
    except ReviewError as exc:
        raise ReviewError(
            f"{exc} -- is the backend up at {backend_url}? If it is on a local address, Label Studio "
            "must be started with ML_BLOCK_LOCAL_IP=false and SSRF_PROTECTION_ENABLED=false "
            "(scripts/label-studio.sh sets both for its loopback-only server)"
        ) from exc


def _connect(client: ReviewClient, project_id: int, url: str, title: str) -> dict[str, Any]:
    sdk = client.sdk
    ml = client.call("list ML backends", lambda: list(sdk.ml.list(project=project_id)))
    have = [m for m in ml if (getattr(m, "url", "") or "").rstrip("/") == url]
    if have:
        ml_id = int(have[0].id)
    else:
        created = client.call(
            "connect the ML backend",
            lambda: sdk.ml.create(project=project_id, url=url, title=title, is_interactive=False, auto_update=True),
        )
        ml_id = int(created.id)
    hook_url = f"{url}/webhook"
    hooks = client.call("list webhooks", lambda: list(sdk.webhooks.list(project=str(project_id))))
    hook = [h for h in hooks if getattr(h, "url", None) == hook_url and getattr(h, "project", None) == project_id]
    if hook:
        hook_id = int(hook[0].id)
    else:
        made = client.call(
            "create the annotation webhook",
            lambda: sdk.webhooks.create(
                url=hook_url, project=project_id, send_payload=True, send_for_all_actions=False,
                actions=list(WEBHOOK_ACTIONS), is_active=True,
            ),
        )
        hook_id = int(made.id)
    return {"ml_backend_id": ml_id, "webhook_id": hook_id, "url": url}
