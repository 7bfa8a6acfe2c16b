"""Start the test OpenID Connect provider in its own process, on a free port, with its own database."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import free_port, stop, wait_for_port

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Idp:
    process: subprocess.Popen
    url: str
    issuer: str
    client_id: str
    client_secret: str

    def settings(self) -> dict[str, str]:
        """The portal's environment for this provider (as README's single sign-on section says)."""
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": self.client_id, "OIDC_CLIENT_SECRET": self.client_secret}

    def stop(self) -> None:
        stop(self.process)


def start_idp(tmp_path: Path, redirect_uri: str, people: list[str]) -> Idp:
    """`people`: "username:password:email:group,group" each."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "IDP_DB": str(tmp_path / "idp.sqlite3"), "IDP_URL": url,
           "DJANGO_SETTINGS_MODULE": "tests.support.idp.settings", "PYTHONPATH": str(ROOT)}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    seeded = subprocess.run([sys.executable, "-m", "tests.support.idp.seed", redirect_uri, *people], env=env,
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    client_id, client_secret = seeded.stdout.split()[-2:]
    with (tmp_path / "idp.log").open("a") as log:
        process = subprocess.Popen([sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                   env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    wait_for_port(port, process)
    return Idp(process, url, f"{url}/openid", client_id, client_secret)
