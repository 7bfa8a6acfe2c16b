from django.db.models import QuerySet

from .models import Delivery, Webhook


def webhooks() -> QuerySet[Webhook]:
    return Webhook.objects.order_by("name", "pk")


def deliveries(webhook: Webhook, limit: int = 50) -> list[Delivery]:
    """The webhook's delivery log, newest first."""
    return list(webhook.deliveries.order_by("-created_at", "-pk")[:limit])
