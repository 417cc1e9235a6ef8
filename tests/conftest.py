"""Shared fixtures: a real Label Studio server for the review tests (started if none answers) and
headless Chromium for the report browser tests (installed if missing)."""

from browser_fixture import chromium  # noqa: F401
from ls_fixture import label_studio  # noqa: F401
