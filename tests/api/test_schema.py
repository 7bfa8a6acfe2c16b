"""The OpenAPI schema is valid and complete, and its pages are served from the portal (no CDN)."""

import pytest
import yaml
from django.core.management import call_command


def test_the_schema_generates_without_a_warning_and_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    paths = schema["paths"]
    for path in ("/api/v1/devices/", "/api/v1/devices/{id}/operations/", "/api/v1/operations/{id}/",
                 "/api/v1/devices/{id}/reveal-password/", "/api/v1/audit/events/", "/api/v1/users/{id}/roles/"):
        assert path in paths, path
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


@pytest.mark.django_db
def test_the_interactive_page_loads_everything_from_the_portal(client):
    response = client.get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "https://" not in html and "http://" not in html and "<script>" not in html  # nothing from elsewhere
    assert "/static/drf_spectacular_sidecar/" in html
    assert "/api/schema/" in client.get("/api/docs/?script=").content.decode()
