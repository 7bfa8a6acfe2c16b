"""What docs/deploy.md promises of the container files (Docker does not run on the build machine:
these check the files say it; the scale-out bench runs the same topology as processes)."""

from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def test_compose_starts_the_topology_the_docs_describe():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"db", "redis", "migrate", "web1", "web2", "worker", "cron"} <= set(services)
    assert services["worker"]["deploy"]["replicas"] == 3
    assert "rqcron" in " ".join(services["cron"]["command"])
    assert "migrate" in " ".join(services["migrate"]["command"]) and "createowner" in " ".join(
        services["migrate"]["command"])
    for name in ("web1", "web2", "worker", "cron"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")


def test_the_image_runs_in_production_mode_and_not_as_root():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "PRODUCTION=true" in dockerfile
    assert "\nUSER portal" in dockerfile and "useradd" in dockerfile
    example = (ROOT / ".env.example").read_text()
    for name in ("SECRET_KEY", "SOFTLAYER_ENDPOINT_URL", "SOFTLAYER_USERNAME", "SOFTLAYER_API_KEY", "METRICS_TOKEN"):
        assert f"{name}=" in example
