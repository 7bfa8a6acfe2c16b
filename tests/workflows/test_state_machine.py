"""The operation's states and moves are defined once; templates ask them and cannot misspell them."""

import pytest
from django.template import Context, Template

from workflows.models import ACTIVE_STATES, IN_FLIGHT_STATES, REACHED_STATES, TRANSITIONS, Operation, State


def test_every_state_has_its_moves_and_ended_states_have_none_but_exit():
    assert set(TRANSITIONS) == set(State.values)
    assert all(TRANSITIONS[s] for s in ACTIVE_STATES)
    assert {s for s, moves in TRANSITIONS.items() if not moves} == {"normal", "exited", "failed", "cancelled"}
    assert TRANSITIONS[State.IN_RESCUE] == TRANSITIONS[State.IMAGE_MOUNTED] == {State.EXITED}
    assert all(target in State.values for moves in TRANSITIONS.values() for target in moves)


def test_the_groups_agree_with_the_moves():
    assert set(IN_FLIGHT_STATES) <= set(ACTIVE_STATES)
    assert not set(REACHED_STATES) & set(ACTIVE_STATES)
    # only an active state can reach the device's target; only a reached one can be exited
    assert {s for s, moves in TRANSITIONS.items() if State.EXITED in moves} == {State.IN_RESCUE, State.IMAGE_MOUNTED}


def test_the_database_rule_covers_exactly_the_active_states():
    (rule,) = Operation._meta.constraints
    (_lookup, states), = rule.condition.children
    assert sorted(states) == sorted(ACTIVE_STATES)


def test_templates_ask_the_state_machine_and_a_misspelt_state_is_an_error():
    op = Operation(state=State.IN_RESCUE)
    page = Template('{% load workflow_tags %}{% if op|state_in:"in_rescue,exited" %}yes{% endif %}')
    assert page.render(Context({"op": op})) == "yes"
    with pytest.raises(ValueError, match="Not operation states"):
        Template('{% load workflow_tags %}{% if op|state_in:"in_rescu" %}yes{% endif %}').render(Context({"op": op}))
