import json

from django import template

from review.sentences import describe

register = template.Library()


@register.filter
def as_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@register.filter
def as_sentence(event) -> str:
    """An audit row as the device page's history tells it (review.sentences)."""
    return describe(event.event, event.outcome, event.actor_username, event.detail, event.reason)
