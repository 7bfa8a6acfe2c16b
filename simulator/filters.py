"""SoftLayer object filters: `{'hostname': {'operation': '_= web'}, 'datacenter': {'name': ...}}`.

Operators follow the API's documented forms (and `SoftLayer.utils.query_filter`):
`_=` equals (case-insensitive), `*=` contains, `^=` begins, `$=` ends (case-insensitive),
`~` / `!~` contains / does not (case-sensitive), `!=`, `>`, `<`, `>=`, `<=`, a bare value (equal),
`in` with `options: [{name: data, value: [...]}]`, `is null`, `not null`, and `orderBy`.
"""

from collections.abc import Callable, Iterable
from typing import Any

Predicate = Callable[[Any], bool]


class FilterError(ValueError):
    pass


def _leaves(spec: dict, path: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], dict]]:
    for key, sub in spec.items():
        if not isinstance(sub, dict):
            raise FilterError(f"Object filter: {'.'.join((*path, key))} must be a struct")
        if "operation" in sub:
            yield (*path, key), sub
        else:
            yield from _leaves(sub, (*path, key))


def _values(obj, path: tuple[str, ...]) -> list:
    """Every value at the path; a list along the way fans out (tagReferences.tag.name)."""
    current = [obj]
    for key in path:
        nxt = []
        for item in current:
            item_list = item if isinstance(item, list) else [item]
            for element in item_list:
                if isinstance(element, dict) and key in element:
                    value = element[key]
                    nxt.extend(value if isinstance(value, list) else [value])
        current = nxt
    return current


def _number(text: str):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _compare(op: str, want: str) -> Predicate:
    def numeric(check: Callable[[float, float], bool]) -> Predicate:
        target = _number(want)

        def predicate(value) -> bool:
            number = _number(value)
            if target is not None and number is not None:
                return check(number, target)
            return check(str(value), want)  # ISO dates and plain strings compare as text

        return predicate

    lowered = want.lower()
    table: dict[str, Predicate] = {
        "_=": lambda v: str(v).lower() == lowered,
        "*=": lambda v: lowered in str(v).lower(),
        "^=": lambda v: str(v).lower().startswith(lowered),
        "$=": lambda v: str(v).lower().endswith(lowered),
        "~": lambda v: want in str(v),
        "!~": lambda v: want not in str(v),
        "!=": lambda v: str(v) != want,
        ">": numeric(lambda a, b: a > b),
        "<": numeric(lambda a, b: a < b),
        ">=": numeric(lambda a, b: a >= b),
        "<=": numeric(lambda a, b: a <= b),
    }
    return table[op]


_OPERATORS = ("<=", ">=", "!=", "!~", "_=", "*=", "^=", "$=", "<", ">", "~")


def _predicate(spec: dict) -> Predicate | None:
    """None for an ordering-only leaf."""
    operation = spec["operation"]
    if isinstance(operation, bool):
        return lambda v: bool(v) == operation
    if isinstance(operation, (int, float)):
        return lambda v: _number(v) == operation
    text = str(operation).strip()
    if text == "orderBy":
        return None
    if text == "in":
        data = next((o.get("value") for o in spec.get("options", []) if o.get("name") == "data"), [])
        wanted = {str(x) for x in data}
        return lambda v: str(v) in wanted
    if text == "is null":
        return lambda v: v is None
    if text == "not null":
        return lambda v: v is not None
    for op in _OPERATORS:
        if text.startswith(op):
            return _compare(op, text[len(op):].strip())
    return lambda v: str(v) == text


def _sort_direction(spec: dict) -> str | None:
    for option in spec.get("options", []) or []:
        if option.get("name") == "sort":
            value = option.get("value") or ["ASC"]
            return str(value[0]).upper()
    return "ASC" if spec.get("operation") == "orderBy" else None


def apply(items: list[dict], spec: dict | None) -> list[dict]:
    """Filter and order the items; with no orderBy the API's order (by id) is kept."""
    if not spec:
        return list(items)
    if not isinstance(spec, dict):
        raise FilterError("Object filter must be a struct")
    conditions: list[tuple[tuple[str, ...], Predicate]] = []
    orderings: list[tuple[tuple[str, ...], str]] = []
    for path, leaf in _leaves(spec):
        predicate = _predicate(leaf)
        if predicate is not None:
            conditions.append((path, predicate))
        direction = _sort_direction(leaf)
        if direction:
            orderings.append((path, direction))

    def matches(item: dict) -> bool:
        for path, predicate in conditions:
            values = _values(item, path)
            if not values:
                values = [None]
            if not any(predicate(v) for v in values):
                return False
        return True

    result = [item for item in items if matches(item)]
    for path, direction in reversed(orderings):

        def key(item, path=path):
            values = _values(item, path)
            value = values[0] if values else None
            return (value is None, value if value is not None else 0)

        result.sort(key=key, reverse=direction == "DESC")
    return result
