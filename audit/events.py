"""The event names of the trail, registered by the apps that write them (the core knows none).

Each producer calls `register(...)` in its AppConfig.ready(); the review filters offer what is
registered, and a test ties every `record("…")` in the code to a registered name."""

_NAMES: dict[str, str] = {}


def register(*names: str, group: str = "") -> None:
    for name in names:
        _NAMES[name] = group


def names() -> list[str]:
    return sorted(_NAMES)
