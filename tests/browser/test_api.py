"""A token made in the browser, then the README's curl lines, run as written, rescue a device on
the stack `make run` starts; the API's own pages render under the portal's CSP."""

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.test_device_list import log_in

pytestmark = pytest.mark.browser


def readme_curl_lines() -> list[str]:
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    block = readme.split("<!-- api-curl -->", 1)[1].split("<!-- /api-curl -->", 1)[0]
    return [line for line in block.splitlines() if "curl " in line and not line.startswith("#")]


def run(line: str, env: dict) -> dict:
    done = subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def make_token(page, portal) -> str:
    page.click("text=API tokens")
    expect(page.locator("h1")).to_have_text("API tokens")
    page.fill("#id_name", "runbook")
    page.check("input[name=scopes][value=operate]")
    page.check("input[name=scopes][value=reveal]")
    page.click("text=Create token")
    token = page.locator("#token-value").inner_text()
    assert re.fullmatch(r"rp_\w{8}_[\w-]+", token)
    return token


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_a_token_from_the_browser_rescues_with_the_readmes_curl_lines(page, portal):
    log_in(page, portal, "operator")
    token = make_token(page, portal)
    device = User.objects.get(username="operator").devices.filter(os_family="linux").order_by("pk").first()
    env = {"PATH": "/usr/bin:/bin", "PORTAL": portal.url.rstrip("/"), "TOKEN": token, "NAME": device.hostname,
           "PASSWORD": portal.logins["operator"]}
    find, rescue, progress, connect, reveal, end = readme_curl_lines()

    assert [d["id"] for d in run(find, env)["results"]] == [device.pk]
    env["DEVICE"], env["KEY"] = str(device.pk), f"rescue-{device.pk}-1"
    asked, again = run(rescue, env), run(rescue, env)
    assert asked["kind"] == "rescue" and again["id"] == asked["id"]  # the same key: one rescue
    env["OP"] = str(asked["id"])
    deadline = time.monotonic() + 120
    while (op := run(progress, env))["state"] not in ("in_rescue", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert op["state"] == "in_rescue", op
    assert run(connect, env)["command"].startswith("ssh root@")
    assert run(reveal, env)["credentials"][0]["password"]
    exit_op = run(end, env)
    assert exit_op["kind"] == "restart"
    env["OP"] = str(exit_op["id"])
    while (op := run(progress, env))["state"] not in ("normal", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert op["state"] == "normal", op

    page.goto(portal.url.rstrip("/") + "/account/api-tokens/")
    expect(page.locator("table")).to_contain_text("runbook")
    expect(page.locator("table")).to_contain_text("127.0.0.1")  # its last use and address
    page.click("button[aria-label='Revoke runbook']")
    expect(page.locator(".msg-success")).to_contain_text("revoked")
    env["OP"] = str(asked["id"])
    assert run(progress, env)["status"] == 401


def test_swagger_ui_renders_from_the_portal_alone_and_tries_a_call(page, portal):
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("data:", "blob:", portal.url.rstrip(
        "/"))) else None)
    page.goto(portal.url.rstrip("/") + "/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Rescue Portal API", timeout=60_000)
    page.click(".opblock-summary-path[data-path='/api/v1/me/']")
    page.click("text=Try it out")
    page.click("text=Execute")
    expect(page.locator(".responses-wrapper .live-responses-table")).to_contain_text("401")  # no token given
    assert not outside, outside
