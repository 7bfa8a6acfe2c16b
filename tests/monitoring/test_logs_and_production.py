"""Logs carry the request and never a secret; production refuses to start on the simulator."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

from monitoring.checks import provider_problems
from monitoring.logs import ContextFilter, redact
from tests.factories import UserFactory, api_token, bearer

MANAGE = str(settings.BASE_DIR / "manage.py")


def test_secrets_are_removed_from_log_lines():
    token = "rp_AbCdEfGh_" + "x" * 43
    line = redact(f"token {token} password=hunter2 api_key: 'abc123' fine=1")
    assert token not in line and "hunter2" not in line and "abc123" not in line and "fine=1" in line


@pytest.mark.django_db
def test_a_json_line_names_the_request_and_the_user(client):
    handler_output = []

    class Keep(logging.Handler):
        def emit(self, record):
            handler_output.append(self.format(record))

    keep = Keep()
    keep.addFilter(ContextFilter())
    keep.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s %(user)s %(device_id)s"))
    logger = logging.getLogger("django.request")
    logger.addHandler(keep)
    try:
        user = UserFactory()
        token = api_token(user)
        client.get("/api/v1/devices/424242/", **bearer(token), HTTP_X_REQUEST_ID="req-12345678")
    finally:
        logger.removeHandler(keep)
    line = json.loads(handler_output[-1])
    assert line["request_id"] == "req-12345678" and line["user"] == user.username
    assert line["device_id"] == 424242 and line["levelname"] == "WARNING"
    assert token not in handler_output[-1]


@pytest.mark.parametrize("endpoint,expected", [
    ("", "is not set"), ("http://127.0.0.1:8079/xmlrpc/v3.1/", "this machine"),
    ("http://localhost:8079/", "this machine"), ("http://[::1]/x", "this machine"),
    ("https://api.softlayer.com/xmlrpc/v3.1/", None)])
def test_production_refuses_a_missing_or_loopback_endpoint(endpoint, expected):
    problems = provider_problems(True, endpoint, "SL-user", "key", True)
    assert (expected is None and not problems) or any(expected in p for p in problems)
    assert provider_problems(False, endpoint, "", "", False) == []  # make run: the simulator is right


def test_a_production_start_pointing_at_the_simulator_stops_with_the_reason(tmp_path):
    env = {**os.environ, "PRODUCTION": "true", "VAR_DIR": str(tmp_path), "SECRET_KEY": "x" * 50,
           "SOFTLAYER_ENDPOINT_URL": "http://127.0.0.1:8079/xmlrpc/v3.1/", "SOFTLAYER_USERNAME": "u",
           "SOFTLAYER_API_KEY": "k"}
    done = subprocess.run([sys.executable, MANAGE, "check"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "points at this machine" in done.stderr
    apps = subprocess.run([sys.executable, "-c", "import django, os; os.environ['DJANGO_SETTINGS_MODULE']="
                           "'rescueportal.settings'; django.setup(); from django.conf import settings; "
                           "print(','.join(settings.INSTALLED_APPS))"], env=env, capture_output=True, text=True,
                          timeout=120, cwd=settings.BASE_DIR)
    assert "simulator" not in apps.stdout.split(",") and "demo" not in apps.stdout.split(",") and apps.stdout
    env["SOFTLAYER_ENDPOINT_URL"] = "https://api.softlayer.com/xmlrpc/v3.1/"
    fine = subprocess.run([sys.executable, MANAGE, "check"], env=env, capture_output=True, text=True, timeout=120)
    assert fine.returncode == 0, fine.stderr


def test_createowner_makes_the_first_user_once_with_a_one_time_password(db):
    from django.core.management import CommandError, call_command

    from accounts.models import User

    call_command("createowner", "alice")
    alice = User.objects.get(username="alice")
    assert alice.is_account_owner and alice.must_change_password
    with pytest.raises(CommandError, match="already has an owner"):
        call_command("createowner", "bob")
