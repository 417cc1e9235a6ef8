"""Shared fixtures: a real Label Studio server for the review tests (started if none answers)."""

from ls_fixture import label_studio  # noqa: F401
