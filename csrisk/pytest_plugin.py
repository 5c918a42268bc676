"""Loaded by pytest (``-p csrisk.pytest_plugin`` in pyproject.toml) before Django starts.

Tests run the development settings, as ``make test`` does; settings default DEBUG off, so
a bare ``pytest`` would otherwise stop at the missing SECRET_KEY. The production settings
have tests of their own (tests/csrisk/test_settings.py, in subprocesses).
"""

import os

os.environ.setdefault("DEBUG", "1")
