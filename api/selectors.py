from django.db.models import QuerySet

from .models import AccessToken


def tokens_of(user) -> QuerySet[AccessToken]:
    return AccessToken.objects.filter(user=user)
