"""SoftLayer object masks: parse `mask[a,b.c,d[e,f]]` (and the client's other forms) and apply them.

The rule of the real API: a level of the mask that names no local property returns all local
properties of the object; naming any local property returns only those. Relational properties
(dicts and lists here) are returned only when the mask names them.
"""

import re

MaskTree = dict[str, "MaskTree"]

_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|[\[\](),.])")


class MaskError(ValueError):
    pass


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise MaskError(f"Unexpected character in object mask at {pos}: {text[pos:pos + 20]!r}")
        tokens.append(match.group(1))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def merge(into: MaskTree, other: MaskTree) -> MaskTree:
    for name, sub in other.items():
        merge(into.setdefault(name, {}), sub)
    return into


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise MaskError(f"Object mask: expected {expected or 'a name'}, found {token!r}")
        self.pos += 1
        return token

    def parse(self) -> MaskTree:
        tree: MaskTree = {}
        if self.peek() == "[":  # "[mask[...], mask(Type)[...]]"
            self.take("[")
            merge(tree, self.mask_expr())
            while self.peek() == ",":
                self.take(",")
                merge(tree, self.mask_expr())
            self.take("]")
        else:
            merge(tree, self.mask_expr())
        if self.peek() is not None:
            raise MaskError(f"Object mask: unexpected {self.peek()!r}")
        return tree

    def mask_expr(self) -> MaskTree:
        if self.peek() in ("mask", "filteredMask"):
            self.take()
            if self.peek() == "(":  # a type qualifier: mask(SoftLayer_Hardware_Server)
                while self.take() != ")":
                    pass
            if self.peek() == ".":
                self.take(".")
                return self.item()
            self.take("[")
            tree = self.items()
            self.take("]")
            return tree
        return self.items()

    def items(self) -> MaskTree:
        tree = self.item()
        while self.peek() == ",":
            self.take(",")
            merge(tree, self.item())
        return tree

    def item(self) -> MaskTree:
        name = self.take()
        if not re.match(r"[A-Za-z_]", name):
            raise MaskError(f"Object mask: expected a property name, found {name!r}")
        if self.peek() == ".":
            self.take(".")
            return {name: self.item()}
        if self.peek() == "[":
            self.take("[")
            sub = self.items()
            self.take("]")
            return {name: sub}
        return {name: {}}


def parse(mask) -> MaskTree | None:
    """A mask string or struct (as `<Service>ObjectMask` sends it) as a tree; None for no mask."""
    if mask in (None, "", {}):
        return None
    if isinstance(mask, dict):
        return {name: (parse(sub) or {}) if isinstance(sub, (dict, str)) else {} for name, sub in mask.items()}
    return _Parser(str(mask)).parse()


def _is_relational(value) -> bool:
    return isinstance(value, (dict, list))


def apply(obj: dict, tree: MaskTree | None) -> dict:
    """The view of `obj` that the mask asks for. Keys starting with `_` are the simulator's own."""
    tree = tree or {}
    named_locals = {n for n, sub in tree.items() if not sub and not _is_relational(obj.get(n))}
    result = {}
    for key, value in obj.items():
        if key.startswith("_") or value is None:
            continue
        if _is_relational(value):
            if key in tree:
                sub = tree[key] or None
                result[key] = [apply(v, sub) if isinstance(v, dict) else v for v in value] if isinstance(
                    value, list
                ) else apply(value, sub)
        elif not named_locals or key in named_locals:
            result[key] = value
    return result
