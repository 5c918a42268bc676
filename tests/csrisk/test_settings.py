"""Settings are read from the environment; production refuses to start without a secret."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    unset = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}  # a production shell has none
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_fails_loudly_without_secret_key_when_debug_is_off():
    result = _run({"DEBUG": "0"}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


@pytest.mark.slow
def test_it_passes_the_deployment_checklist_with_production_settings():
    secret = "x" * 20 + "-production-secret-for-check-deploy-0123456789abcdef"
    result = _run(
        {"DEBUG": "0", "SECRET_KEY": secret, "ALLOWED_HOSTS": "csrisk.example.com"},
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


GOOD_SECRET = "x" * 20 + "-production-secret-for-check-deploy-0123456789abcdef"


def _debug_setting(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run(env, "shell", "-c", "from django.conf import settings; print(settings.DEBUG)")


@pytest.mark.slow
def test_it_turns_debug_off_unless_asked_for_even_without_database_url():
    env = {"SECRET_KEY": GOOD_SECRET, "DATABASE_URL": ""}
    result = _debug_setting(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "False"
    asked = _debug_setting({**env, "DEBUG": "1"})
    assert asked.stdout.split()[-1] == "True", asked.stderr


def test_it_says_what_to_do_without_debug_and_without_secret_key():
    result = _run({"DATABASE_URL": ""}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr
    assert "DEBUG=1" in result.stderr  # the way back to the embedded default


@pytest.mark.parametrize(
    "secret",
    [
        "change-me-to-a-long-random-string",  # the .env.example value
        "dev-only-not-secret-csrisk-local-development-key-0123456789",  # settings' dev key
        "changeme",
        "secret",
        "short-but-not-a-placeholder-0123456789",  # under Django's 50 characters
        "a" * 60,  # long, but five distinct characters at least are needed
    ],
)
def test_it_refuses_a_placeholder_secret_key_when_debug_is_off(secret):
    result = _run({"DEBUG": "0", "SECRET_KEY": secret}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "placeholder" in result.stderr


def test_it_accepts_a_placeholder_secret_key_with_debug_on():
    result = _run({"DEBUG": "1", "SECRET_KEY": "changeme"}, "check")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("target", ["demo", "run"])
def test_it_runs_make_demo_and_run_with_debug_on(tmp_path, target):
    # A stand-in interpreter prints what each step of the target would run, and with
    # which DEBUG, so the real Makefile recipe is exercised without installing anything.
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho "DEBUG=${DEBUG:-unset} $*"\n')
    fake.chmod(0o755)
    stamp = tmp_path / "stamp"
    stamp.touch()
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "MAKEFLAGS"}}
    result = subprocess.run(
        ["make", "-s", target, f"PY={fake}", f"STAMP={stamp}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    steps = [line for line in result.stdout.splitlines() if "manage.py" in line]
    assert any("demo_server" in line for line in steps), result.stdout
    assert steps and all(line.startswith("DEBUG=1 ") for line in steps), steps
