"""Shared fixtures: a real Label Studio server for the review tests (started if none answers) and
headless Chromium for the report browser tests (installed if missing).

Many tests compare two runs into different folders (resume, S3 against local, process pool
against one worker). Value hashes are keyed per OUT unless runs share ``FACTSEP_HASH_KEY``
(factsep.hashkey), so the session shares one, as a user comparing runs would; tests/test_hashkey.py
runs without it.
"""

import os

from browser_fixture import chromium  # noqa: F401
from ls_fixture import label_studio  # noqa: F401

os.environ.setdefault("FACTSEP_HASH_KEY", "factsep test session key")
