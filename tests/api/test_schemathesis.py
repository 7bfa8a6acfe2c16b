"""Schemathesis, driven by the portal's own OpenAPI schema, against a live server with a token, for
each kind of user: no server error, and every answer (status, content type, body) as the schema says."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from accounts import capabilities as caps
from api.models import Scope
from devices.models import Device
from devices.services import sync_devices
from tests.factories import OwnerFactory, UserFactory, api_token, grant

pytestmark = pytest.mark.django_db(transaction=True)
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
ALL_SCOPES = [s for s in Scope.values if s != Scope.READ]


def kinds_of_user(device) -> dict:
    return {
        "viewer": lambda: grant(UserFactory(), devices=[device]),
        "operator": lambda: grant(UserFactory(), caps.ACCESS_ALL_GUEST, caps.ACCESS_ALL_HARDWARE, roles=["Operator"]),
        "auditor": lambda: grant(UserFactory(), roles=["Auditor"]),
        "manager": lambda: grant(UserFactory(), caps.ACCESS_ALL_GUEST, roles=["User manager"]),
        "owner": OwnerFactory,
    }


def run_schemathesis(url: str, token: str, report: Path, examples: int = 8) -> dict:
    command = [str(Path(sys.executable).with_name("schemathesis")), "run", f"{url}/api/schema/", "--url", url,
               "--header", f"Authorization: Bearer {token}", "--checks", CHECKS, "--max-examples", str(examples),
               "--seed", "17", "--workers", "1", "--no-shrink", "--phases", "examples,fuzzing",
               "--request-timeout", "30", "--report", "json", "--report-json-path", str(report),
               "--suppress-health-check", "all", "--warnings", "off"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=report.parent)  # its cache too
    return {"exit": done.returncode, "output": done.stdout[-6000:] + done.stderr[-2000:],
            "report": json.loads(report.read_text()) if report.exists() else {}}


@pytest.mark.parametrize("kind", ["viewer", "operator", "auditor", "manager", "owner"])
def test_the_schema_holds_for_each_kind_of_user(live_server, sim, settings, tmp_path, kind):
    settings.API_RATE = ""  # thousands of requests in a minute: the rate has its own test
    sync_devices()  # the simulator's devices, so that ids it tries exist
    device = Device.objects.filter(kind="virtual").order_by("pk").first()
    user = kinds_of_user(device)[kind]()
    result = run_schemathesis(live_server.url, api_token(user, *ALL_SCOPES), tmp_path / "report.json")
    report = result["report"]
    operations, cases = report.get("operations", {}), report.get("test_cases", {})
    print(f"\nSchemathesis as {kind}: {operations.get('tested')} of {operations.get('total')} operations, "
          f"{cases.get('generated')} cases, {cases.get('unique_failures')} failures, {cases.get('errored')} errors")
    assert result["exit"] == 0, result["output"]
    assert operations["tested"] == operations["total"] >= 20, (operations, report.get("errors"), result["output"])
    assert cases["generated"] >= 6 * operations["total"]
