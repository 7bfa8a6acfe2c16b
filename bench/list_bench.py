"""The Device List and a device page at two sizes of account, side by side.

    .venv/bin/python bench/list_bench.py [--small 100] [--big 10000]

Two scratch SQLite databases, one per size; each measured in its own process, the sizes
alternated over three rounds, the median kept. Each figure in a round is the median of 9
requests (as the owner, 25 rows a page) after 3 warm-up requests; the device page makes no SoftLayer call.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import RESULTS, Table, in_subprocess, side_by_side  # noqa: E402


def setup_django(var_dir: str) -> None:
    os.environ.update({"DATABASE_URL": f"sqlite:///{var_dir}/bench.sqlite3", "VAR_DIR": var_dir,
                       "DJANGO_SETTINGS_MODULE": "rescueportal.settings", "LOG_LEVEL": "WARNING",
                       "ALLOWED_HOSTS": "testserver", "SOFTLAYER_ENDPOINT_URL": "http://127.0.0.1:9/xmlrpc/v3.1/",
                       "SOFTLAYER_RETRY_ATTEMPTS": "1"})  # an old device page asks SoftLayer: refused at once
    import django

    django.setup()


def build(var_dir: str, devices: int) -> None:
    setup_django(var_dir)
    from django.core.management import call_command

    from accounts.models import User
    from devices.models import Device
    from tests.factories import DeviceFactory

    call_command("migrate", verbosity=0)
    User.objects.create(username="bench-owner", is_account_owner=True)
    Device.objects.bulk_create(DeviceFactory.build_batch(devices), batch_size=2000)


def measure(var_dir: str) -> dict:
    setup_django(var_dir)
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from bench.common import timed
    from devices.models import Device

    client = Client()
    client.force_login(User.objects.get(username="bench-owner"))
    device = Device.objects.order_by("pk").first()

    def get(url, params=None, **headers):
        def run():
            assert client.get(url, params or {}, **headers).status_code == 200
        return run

    return {
        "Device List, full page": timed(get(reverse("devices:list"))),
        "Device List, htmx partial (filter + sort)": timed(get(reverse("devices:list"), {
            "kind": "virtual", "sort": "-memory_mb"}, HTTP_HX_REQUEST="true")),
        "device page": timed(get(reverse("devices:detail", args=[device.pk]))),
        "devices": Device.objects.count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=1, help=argparse.SUPPRESS)
    parser.add_argument("--code", help=argparse.SUPPRESS)  # measure with another checkout's code
    parser.add_argument("--against", default="00ed6f8",
                        help="an earlier revision to measure on the big account beside this one (default: the "
                             "last commit before this round's speed work); 'none' to skip")
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, args.code)
    if args.build:
        build(args.build[0], int(args.build[1]))
        print(json.dumps({}))
        return
    if args.measure:
        print(json.dumps(measure(args.measure[0])))
        return
    workdir = Path(tempfile.mkdtemp(prefix="rp-list-bench-"))
    dirs = {}
    for name, size in (("small", args.small), ("big", args.big)):
        (workdir / name).mkdir()
        in_subprocess("list_bench.py", "--build", str(workdir / name), str(size))
        dirs[name] = str(workdir / name)
    small, big = side_by_side(lambda: in_subprocess("list_bench.py", "--measure", dirs["small"]),
                              lambda: in_subprocess("list_bench.py", "--measure", dirs["big"]))
    table = Table("Device List and device page: small account (A) and big account (B)",
                  f"SQLite; {small['devices']:,.0f} / {big['devices']:,.0f} devices; the owner, 25 rows a page; "
                  "median of 3 rounds (sizes alternated), each the median of 9 requests after 3 warm-up requests. "
                  f"Requests a second for one process: {1 / big['Device List, full page']:.0f} full pages, "
                  f"{1 / big['Device List, htmx partial (filter + sort)']:.0f} partials at the big size.")
    for name in ("Device List, full page", "Device List, htmx partial (filter + sort)", "device page"):
        table.add(name, "small", small[name], "big", big[name], goal=1.5)
    print(table.markdown())
    tables = [table]
    if args.against != "none":
        tables.append(against(args.against, dirs["big"], big["devices"]))
        print(tables[-1].markdown())
    with RESULTS.open("a") as out:
        out.write("".join(t.markdown() + "\n" for t in tables))


def against(revision: str, big_dir: str, devices: float) -> Table:
    """The same requests on the same big account, with the code of `revision` (a git worktree)."""
    import subprocess

    tree = Path(tempfile.mkdtemp(prefix="rp-list-bench-code-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), revision], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        before, now = side_by_side(
            lambda: in_subprocess("list_bench.py", "--measure", big_dir, "--code", str(tree)),
            lambda: in_subprocess("list_bench.py", "--measure", big_dir))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False,
                       capture_output=True)
    table = Table(f"Device List: the code of {revision} (A) and this code (B), same {devices:,.0f}-device account",
                  "The same requests and database; median of 3 rounds, order alternated. Below 1 is faster now.")
    for name in ("Device List, full page", "Device List, htmx partial (filter + sort)", "device page"):
        table.add(name, revision, before[name], "now", now[name], goal=0.5 if name != "device page" else None)
    return table


if __name__ == "__main__":
    main()
