"""What other apps add to the device page, without `devices` importing them (NetBox's template
extensions are the model): a panel is a function of (request, device) that returns HTML, placed
in a slot of the page; actions are the items of the page's Actions menu.

Apps register in their AppConfig.ready(): workflows adds the operation's progress, how to connect,
recent operations and the Actions items; review adds the device's history."""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from .models import Device

SLOTS = ("top", "rescue", "bottom")  # above the cards, inside the Rescue card, below the cards


@dataclass(frozen=True)
class Action:
    key: str
    label: str
    url: str
    permitted: bool
    needs: str  # the permission it needs, said when it is not permitted


Panel = Callable[[HttpRequest, Device], str]
# A tool above the Device List's rows: (request, the filter's query string, how many devices match) → HTML.
ListTool = Callable[[HttpRequest, str, int], str]
ActionSource = Callable[[object, Device], list[Action]]

_panels: dict[str, list[tuple[int, Panel]]] = {slot: [] for slot in SLOTS}
_action_sources: list[tuple[int, ActionSource]] = []
_list_tools: list[ListTool] = []


def register_panel(slot: str, panel: Panel, order: int = 100) -> None:
    if slot not in SLOTS:
        raise ValueError(f"Unknown slot {slot!r}; one of {SLOTS}")
    if all(existing is not panel for _, existing in _panels[slot]):
        _panels[slot].append((order, panel))
        _panels[slot].sort(key=lambda entry: entry[0])


def register_actions(source: ActionSource, order: int = 100) -> None:
    if all(existing is not source for _, existing in _action_sources):
        _action_sources.append((order, source))
        _action_sources.sort(key=lambda entry: entry[0])


def render_panels(request: HttpRequest, device: Device) -> dict[str, list[SafeString]]:
    """Each slot's panels as HTML (a panel with nothing to show returns "")."""
    rendered = {slot: [] for slot in SLOTS}
    for slot, panels in _panels.items():
        for _order, panel in panels:
            if html := panel(request, device):
                rendered[slot].append(mark_safe(html))
    return rendered


def register_list_tool(tool: ListTool) -> None:
    if tool not in _list_tools:
        _list_tools.append(tool)


def render_list_tools(request: HttpRequest, querystring: str, count: int) -> list[SafeString]:
    return [mark_safe(html) for tool in _list_tools if (html := tool(request, querystring, count))]


def actions_for(user, device: Device) -> list[Action]:
    return [action for _order, source in _action_sources for action in source(user, device)]
