"""The schema says what every operation may answer besides success: a problem (RFC 9457)."""

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "description": "A URI reference naming the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What happened and what to do next."},
        "instance": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                   "description": "For invalid fields: each field's messages."},
    },
    "required": ["type", "title", "status", "detail"],
}
PROBLEM_STATUSES = {"400": "The request is not valid (see `errors`)", "401": "No valid token",
                    "403": "Not allowed (for you, or for this token's scopes)",
                    "404": "Nothing here, or nothing you may see", "405": "Method not allowed",
                    "409": "Not possible in the current state", "415": "Send JSON",
                    "422": "Idempotency-Key reused with another request", "429": "Too many requests: wait",
                    "503": "A part the portal needs (SoftLayer) cannot be reached; nothing was done"}


def add_problems(result: dict, generator, request, public) -> dict:
    """A drf-spectacular postprocessing hook."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    body = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for code, description in PROBLEM_STATUSES.items():
                if code in ("415", "422") and method == "get":
                    continue
                operation["responses"].setdefault(code, {"description": description, "content": body})
    return result
