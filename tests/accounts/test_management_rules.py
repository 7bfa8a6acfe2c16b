"""Who may change whom, decided from plain data (the database-backed cases are in test_manage_users)."""

from accounts import capabilities as caps
from accounts.policy import grant_denial

MANAGER = frozenset({caps.USER_MANAGE, caps.SERVER_RELOAD, caps.ACCESS_ALL_GUEST})


def test_only_manage_users_holders_change_users():
    assert "Manage Users" in grant_denial(frozenset({caps.SERVER_RELOAD}))
    assert grant_denial(MANAGER) is None


def test_nobody_changes_the_owner_and_nobody_their_own_grants():
    assert "account owner" in grant_denial(caps.ALL_KEYS, target_is_owner=True)
    assert "your own" in grant_denial(MANAGER, target_is_actor=True)


def test_a_manager_grants_only_what_they_hold():
    assert grant_denial(MANAGER, capability_keys=[caps.SERVER_RELOAD]) is None
    denial = grant_denial(MANAGER, capability_keys=[caps.SERVER_RELOAD, caps.VIEW_CUSTOMER_SOFTWARE_PASSWORD])
    assert denial and caps.BY_KEY[caps.VIEW_CUSTOMER_SOFTWARE_PASSWORD].name in denial
    assert "do not hold" in grant_denial(MANAGER, role_caps=[caps.USER_EVENT_LOG_VIEW])


def test_the_owner_may_grant_anything_to_others():
    assert grant_denial(caps.ALL_KEYS, capability_keys=sorted(caps.ALL_KEYS)) is None


def test_a_manager_changes_the_status_only_of_users_whose_permissions_they_hold():
    assert grant_denial(MANAGER, target_holds=frozenset({caps.SERVER_RELOAD})) is None
    denial = grant_denial(MANAGER, target_holds=frozenset({caps.SERVER_RELOAD, caps.USER_EVENT_LOG_VIEW}))
    assert denial and "deactivate or reactivate" in denial and caps.BY_KEY[caps.USER_EVENT_LOG_VIEW].name in denial
    assert grant_denial(caps.ALL_KEYS, target_holds=caps.ALL_KEYS - {caps.USER_MANAGE}) is None
