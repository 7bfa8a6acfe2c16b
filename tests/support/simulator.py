"""A SoftLayer simulator run as its own process (`manage.py runsimulator`), as `make run` runs it."""

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import SoftLayer
from django.conf import settings

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")
USERNAME = "SL-test"
API_KEY = "test-api-key-0123456789"


class SimulatorProcess:
    def __init__(self, devices: int = 40, seed: int = 1, time_scale: float = 0.001, latency_ms: float = 2.0):
        self.devices, self.seed = devices, seed
        self.process = subprocess.Popen(
            [sys.executable, MANAGE, "runsimulator", "--port", "0", "--devices", str(devices), "--seed", str(seed),
             "--time-scale", str(time_scale), "--latency-ms", str(latency_ms),
             "--username", USERNAME, "--api-key", API_KEY],
            stdout=subprocess.PIPE, text=True,
        )
        first_line = self.process.stdout.readline().strip()
        if "listening on " not in first_line:
            self.stop()
            raise RuntimeError(f"The simulator did not start: {first_line!r}")
        self.url = first_line.split("listening on ", 1)[1]
        self.base = self.url.split("/xmlrpc/")[0]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()

    def control(self, path: str, payload: dict | None = None) -> dict:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(f"{self.base}/control/{path}", data=data, method="POST" if data else "GET")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def calls(self) -> dict[str, int]:
        return self.control("stats")["calls"]

    def total_calls(self) -> int:
        return self.control("stats")["total"]

    def stats(self) -> dict:
        return self.control("stats")

    def transactions_started(self, kind: str, object_id: int) -> int:
        """How many transactions the provider began on a device: two would be a duplicate submit."""
        return sum(n for key, n in self.stats()["started"].items() if key.startswith(f"{kind}:{object_id}:"))

    def clear_faults(self) -> None:
        self.control("faults", {"clear": True})

    def reset(self) -> None:
        self.control("reset", {})

    def inject(self, fault: str, method: str = "*", count: int = 1, seconds: float = 0.0) -> None:
        self.control("faults", {"fault": fault, "method": method, "count": count, "seconds": seconds})

    def add_device(self, kind: str = "virtual", family: str = "linux", small: bool = False) -> int:
        return self.control("devices", {"action": "add", "kind": kind, "family": family, "small": small})["id"]

    def remove_device(self, kind: str, object_id: int) -> None:
        self.control("devices", {"action": "remove", "kind": kind, "id": object_id})

    def reboot_from_os(self, kind: str, object_id: int) -> None:
        """Someone typed `reboot` inside the rescue OS (SoftLayer shows nothing of it)."""
        self.control("devices", {"action": "reboot_from_os", "kind": kind, "id": object_id})

    def update_device(self, kind: str, object_id: int, **changes) -> None:
        self.control("devices", {"action": "update", "kind": kind, "id": object_id, "changes": changes})

    def client(self, username: str = USERNAME, api_key: str = API_KEY, timeout: float = 30):
        """The unchanged `SoftLayer` client, pointed here."""
        return SoftLayer.create_client_from_env(username=username, api_key=api_key, endpoint_url=self.url,
                                                timeout=timeout)

    def point_settings_here(self, settings_fixture) -> None:
        settings_fixture.SOFTLAYER_ENDPOINT_URL = self.url
        settings_fixture.SOFTLAYER_USERNAME = USERNAME
        settings_fixture.SOFTLAYER_API_KEY = API_KEY
