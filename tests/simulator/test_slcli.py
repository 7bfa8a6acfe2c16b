"""`slcli`, the client library's own CLI, works against the simulator unchanged."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.simulator import API_KEY, USERNAME

SLCLI = str(Path(sys.executable).parent / "slcli")


@pytest.fixture
def slcli(simulator, tmp_path):
    config = tmp_path / "softlayer.conf"
    config.write_text(f"[softlayer]\nusername = {USERNAME}\napi_key = {API_KEY}\n"
                      f"endpoint_url = {simulator.url}\ntimeout = 30\n")

    def run(*args: str) -> str:
        done = subprocess.run([SLCLI, "--config", str(config), "-y", *args], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


def test_slcli_lists_virtual_servers_and_hardware(slcli, simulator):
    guests = json.loads(slcli("--format", "json", "vs", "list"))
    hardware = json.loads(slcli("--format", "json", "hw", "list"))

    expected = simulator.client().call("Account", "getVirtualGuests", mask="mask[id,hostname]")
    assert sorted(g["id"] for g in guests) == sorted(g["id"] for g in expected)
    assert {g["hostname"] for g in guests} == {g["hostname"] for g in expected}
    assert len(hardware) == simulator.client().call("Account", "getHardwareCount")


def test_slcli_shows_one_device(slcli, simulator):
    guest = simulator.client().call("Account", "getVirtualGuests", limit=1,
                                    mask="mask[id,fullyQualifiedDomainName,primaryIpAddress]")[0]

    detail = json.loads(slcli("--format", "json", "vs", "detail", str(guest["id"])))

    assert detail["fqdn"] == guest["fullyQualifiedDomainName"]
    assert detail["id"] == guest["id"]
    assert detail["public_ip"] == guest["primaryIpAddress"]
