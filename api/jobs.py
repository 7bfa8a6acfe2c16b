from . import services


def forget_old_keys() -> int:
    """Hourly: Idempotency-Keys older than IDEMPOTENCY_KEEP_HOURS are forgotten."""
    return services.forget_old_keys()
