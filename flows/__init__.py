"""Prefect flows over factsep: thin wrappers that add scheduling, retries, caching and artifacts."""

from __future__ import annotations

from flows.pipeline_flow import pipeline_flow
from flows.route_flow import route_flow
from flows.scan_flow import scan_flow
from flows.sync_flow import sync_flow

__all__ = ["pipeline_flow", "route_flow", "scan_flow", "sync_flow"]
