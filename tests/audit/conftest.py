import pytest

from tests.factories import UserFactory, grant


@pytest.fixture
def auditor_client(client):
    client.force_login(grant(UserFactory(username="auditor"), roles=["Auditor"]))
    return client
