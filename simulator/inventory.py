"""A deterministic, realistic SoftLayer inventory generated from a seed.

The same seed and count always give the same account, so tests and demos can name devices.
The first devices cycle through every archetype, so even a small inventory holds a Linux virtual
server under and over 6 GB, a Windows virtual server, and Linux and Windows bare metal.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DATACENTERS = [
    (1441195, "dal10", "Dallas 10"),
    (1854895, "dal13", "Dallas 13"),
    (2017603, "wdc07", "Washington 7"),
    (814994, "ams03", "Amsterdam 3"),
    (1004997, "lon06", "London 6"),
    (449506, "fra02", "Frankfurt 2"),
    (2344079, "tok02", "Tokyo 2"),
    (1004995, "syd05", "Sydney 5"),
    (265592, "sao01", "Sao Paulo 1"),
]

# (name, version, referenceCode, manufacturer, family)
LINUX_OS = [
    ("CentOS", "7.9-64", "CENTOS_7_64", "CentOS", "linux"),
    ("Rocky Linux", "8.9-64", "ROCKYLINUX_8_64", "Rocky Enterprise Software Foundation", "linux"),
    ("Rocky Linux", "9.3-64", "ROCKYLINUX_9_64", "Rocky Enterprise Software Foundation", "linux"),
    ("Ubuntu", "20.04-64 Minimal", "UBUNTU_20_64", "Canonical", "linux"),
    ("Ubuntu", "22.04-64 Minimal", "UBUNTU_22_64", "Canonical", "linux"),
    ("Debian GNU/Linux", "12.x bookworm/Stable-64", "DEBIAN_12_64", "Debian", "linux"),
    ("Red Hat Enterprise Linux", "8.x - 64 bit", "REDHAT_8_64", "Red Hat", "linux"),
]
WINDOWS_OS = [
    ("Windows Server", "2019 Standard Edition (64 bit)", "WIN_2019-STD_64", "Microsoft", "windows"),
    ("Windows Server", "2022 Standard Edition (64 bit)", "WIN_2022-STD_64", "Microsoft", "windows"),
]
ROLES = ["web", "app", "db", "cache", "api", "batch", "mail", "build", "ci", "vpn", "files", "search"]
DOMAINS = ["example.com", "acme.internal", "prod.example.net", "staging.example.org"]

VIRTUAL, BARE_METAL = "virtual", "bare_metal"

# Archetypes: (kind, os family, small memory?) cycled for the first devices, then drawn by weight.
ARCHETYPES = [
    (VIRTUAL, "linux", True),
    (VIRTUAL, "linux", False),
    (VIRTUAL, "windows", False),
    (BARE_METAL, "linux", False),
    (BARE_METAL, "windows", False),
]
WEIGHTS = [30, 30, 18, 14, 8]


@dataclass
class Inventory:
    guests: dict[int, dict]
    hardware: dict[int, dict]


def _os_struct(rng: random.Random, os_row: tuple, username: str) -> dict:
    name, version, ref, maker, _family = os_row
    return {
        "id": rng.randint(10_000_000, 99_999_999),
        "hardwareId": None,
        "softwareLicense": {
            "id": rng.randint(1000, 9999),
            "softwareDescription": {
                "name": name,
                "version": version,
                "referenceCode": ref,
                "manufacturer": maker,
                "longDescription": f"{name} / {name} {version}",
            },
        },
        "passwords": [
            {
                "id": rng.randint(1_000_000, 9_999_999),
                "username": username,
                "password": "".join(rng.choices("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=12)),
            }
        ],
    }


def _ips(rng: random.Random, public: bool) -> tuple[str | None, str]:
    private = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"
    if not public:
        return None, private
    first = rng.choice([169, 158, 159, 161, 52])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}", private


def _datacenter(rng: random.Random) -> dict:
    dc_id, name, long_name = rng.choice(DATACENTERS)
    return {"id": dc_id, "name": name, "longName": long_name}


def make_device(rng: random.Random, index: int, next_id: int, archetype: tuple) -> dict:
    """One SoftLayer-shaped device of the archetype (kind, OS family, small memory)."""
    kind, family, small = archetype
    os_row = rng.choice(LINUX_OS if family == "linux" else WINDOWS_OS)
    user = "root" if family == "linux" else "Administrator"
    hostname = f"{rng.choice(ROLES)}-{index + 1:05d}"
    domain = rng.choice(DOMAINS)
    public_ip, private_ip = _ips(rng, public=rng.random() > 0.1)
    created = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 900_000))
    stamp = created.isoformat()
    powered_on = rng.random() > 0.08
    common = {
        "id": next_id,
        "globalIdentifier": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "hostname": hostname,
        "domain": domain,
        "fullyQualifiedDomainName": f"{hostname}.{domain}",
        "datacenter": _datacenter(rng),
        "provisionDate": stamp,
        "createDate": stamp,
        "modifyDate": stamp,
        "notes": "",
        "operatingSystemReferenceCode": os_row[2],
        "operatingSystem": _os_struct(rng, os_row, user),
        "tagReferences": [],
    }
    if public_ip:
        common["primaryIpAddress"] = public_ip
    common["primaryBackendIpAddress"] = private_ip
    if kind == VIRTUAL:
        if family == "linux":
            memory = rng.choice([1024, 2048, 4096]) if small else rng.choice([6144, 8192, 16384, 32768, 65536])
        else:
            memory = rng.choice([8192, 16384, 32768])
        power = {"keyName": "RUNNING", "name": "Running"} if powered_on else {"keyName": "HALTED", "name": "Halted"}
        cpus = rng.choice([1, 2, 4, 8, 16])
        common.update(
            {
                "maxMemory": memory,
                "maxCpu": cpus,
                "startCpus": cpus,
                "maxCpuUnits": "CORE",
                "hourlyBillingFlag": rng.random() > 0.4,
                "privateNetworkOnlyFlag": public_ip is None,
                "dedicatedAccountHostOnlyFlag": False,
                "transientGuestFlag": False,
                "localDiskFlag": False,
                "powerState": power,
                "lastKnownPowerState": dict(power),
                "status": {"keyName": "ACTIVE", "name": "Active"},
                "blockDevices": [
                    {"id": next_id * 10 + 1, "device": "0", "mountType": "Disk", "bootableFlag": 1},
                    {"id": next_id * 10 + 2, "device": "2", "mountType": "CD", "bootableFlag": 0},
                ],
            }
        )
    else:
        common.update(
            {
                "memoryCapacity": rng.choice([64, 128, 256, 384, 512]),
                "processorPhysicalCoreAmount": rng.choice([8, 16, 24, 32, 48]),
                "hardwareStatusId": 5,
                "hardwareStatus": {"id": 5, "status": "ACTIVE"},
                "bareMetalInstanceFlag": 0,
                "_power": "on" if powered_on else "off",
            }
        )
    return common


def generate(count: int, seed: int) -> Inventory:
    rng = random.Random(seed)
    inventory = Inventory(guests={}, hardware={})
    next_guest_id, next_hardware_id = 70_000_001, 1_500_001
    for index in range(count):
        archetype = ARCHETYPES[index] if index < len(ARCHETYPES) else rng.choices(ARCHETYPES, WEIGHTS)[0]
        if archetype[0] == VIRTUAL:
            device = make_device(rng, index, next_guest_id, archetype)
            inventory.guests[device["id"]] = device
            next_guest_id += rng.randint(1, 40)
        else:
            device = make_device(rng, index, next_hardware_id, archetype)
            inventory.hardware[device["id"]] = device
            next_hardware_id += rng.randint(1, 25)
    return inventory
