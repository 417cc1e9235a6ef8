"""``factsep ml-backend``: serve OUT to Label Studio as an ML backend (predict, and fit on annotations).

Output names the URL, the project and the model version; never values and never the API key.
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

console = Console(stderr=True)


def ml_backend_cmd(
    out: str = typer.Argument(..., help="The scan's output folder (local or mounted)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(9090, "--port", help="Port to listen on."),
    project: str | None = typer.Option(
        None, "--project", "-p", help="With --connect: the Label Studio project title (default from \\[review])."),
    connect: bool = typer.Option(
        False, "--connect", help="Connect this backend to the project (ML backend and annotation webhook), "
        "using LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY."),
    public_url: str | None = typer.Option(
        None, "--public-url", help="The URL Label Studio reaches this backend at (default http://HOST:PORT)."),
    config_path: Path | None = typer.Option(None, "--config", "-c", help="factsep TOML (its \\[review] section)."),
) -> None:
    """Serve Label Studio's ML backend protocol: pre-annotate any task, record every annotation."""
    from factsep.cli.review import _config, _local_out
    from factsep.review import ReviewClient, ReviewError
    from factsep.review.ml_backend import MLBackend
    from factsep.review.ml_backend import connect as connect_backend

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    _local_out(out)
    cfg = _config(config_path)
    try:
        backend = MLBackend(out, host=host, port=port, config=cfg)
    except (ReviewError, OSError) as exc:
        console.print(f"[red]ml-backend failed:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    url = (public_url or backend.url).rstrip("/")
    console.print(escape(f"factsep ML backend for {out} at {url} (model version {backend.model.model_version})"))
    if connect:
        backend.start()
        try:
            client = ReviewClient.from_env()
            title = project or cfg.project
            pid = client.find_project(title)
            if pid is None:
                raise ReviewError(f"no Label Studio project named {title!r} at {client.url}; run `factsep route` first")
            ids = connect_backend(client, pid, url)
        except ReviewError as exc:
            console.print(f"[red]connect failed:[/red] {escape(str(exc))}")
            backend.close()
            raise typer.Exit(1) from exc
        console.print(escape(f"connected to project {pid} (ML backend {ids['ml_backend_id']}, "
                             f"webhook {ids['webhook_id']})"))
    try:
        backend.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        backend.close()


def register(app: typer.Typer) -> None:
    app.command("ml-backend")(ml_backend_cmd)
