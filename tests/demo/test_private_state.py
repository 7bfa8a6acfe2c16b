"""What `make run` keeps in VAR_DIR (the SQLite database, keys, passwords, the Redis socket) is
readable by its user only."""

import os
import stat

from tests.support.processes import manage


def test_a_new_var_dir_and_its_database_are_private(tmp_path):
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"VAR_DIR": str(var), "AUDIT_DIGEST_DIR": str(var / "audit-digests")}
    env.pop("AUDIT_DIGEST_KEY", None)

    migrated = manage("migrate", "--no-input", env=env)
    assert migrated.returncode == 0, migrated.stderr
    made = manage("shell", "-c", "from audit.services import record; record('test.event', 'succeeded')", env=env)
    assert made.returncode == 0, made.stderr

    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    for name in ("db.sqlite3", "secret_key", "audit_digest_key"):
        assert stat.S_IMODE((var / name).stat().st_mode) == 0o600, name


def test_an_existing_var_dir_is_made_private(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | {"VAR_DIR": str(var)}

    assert manage("check", env=env).returncode == 0
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
