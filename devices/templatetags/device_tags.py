from django import template

register = template.Library()


@register.filter
def memory(megabytes: int) -> str:
    """8192 → '8 GB'; nothing known → '—'."""
    return f"{megabytes / 1024:g} GB" if megabytes else "—"
