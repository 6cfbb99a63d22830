"""The production profile passes `check --deploy` cleanly, and refuses to start without what it needs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "n8Jx2v-0_production-grade-secret-key-for-the-check-only-4Qm7zLw9Tt",
    "ALLOWED_HOSTS": "meridian.example.com",
    "DATABASE_URL": "sqlite:////tmp/meridian-deploy-check.sqlite3",
    "AUDIT_SEAL_KEY": "a-production-seal-key-for-the-check-only",
}


def _manage(*args, env):
    # Not this test process's own switches (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE).
    inherited = set(PRODUCTION_ENV) | {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in inherited}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "LOG_FORMAT": "text", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_profile_passes_check_deploy_with_no_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_does_not_install_the_sandbox():
    probe = "from django.apps import apps; print(apps.is_installed('sandbox'))"
    result = _manage("shell", "--no-imports", "-c", probe, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
    assert "Unknown command: 'run_local'" in _manage("run_local", env=PRODUCTION_ENV).stderr


def test_development_and_the_tests_install_the_sandbox():
    from django.apps import apps

    assert apps.is_installed("sandbox")


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "AUDIT_SEAL_KEY"])
def test_production_refuses_to_start_without_a_required_variable(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_an_unknown_environment_name_is_refused():
    result = _manage("check", env={"DJANGO_ENV": "prod"})
    assert result.returncode != 0
    assert "DJANGO_ENV must be 'development' or 'production'" in result.stderr


def test_every_environment_variable_is_documented_in_the_readme():
    import re

    source = (ROOT / "portal" / "settings.py").read_text()
    names = set(re.findall(r'(?:env\.\w+|_required_in_production|env\.get_value)\(\s*"([A-Z][A-Z0-9_]+)"', source))
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))
    assert names, "no environment variables found in settings.py: the pattern is out of date"
    assert names - documented == set(), "add these to the README's configuration table"
