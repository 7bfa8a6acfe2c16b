from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("account/notifications/", views.preferences, name="preferences"),
    path("notifications/webhooks/", views.webhooks, name="webhooks"),
    path("notifications/webhooks/<int:pk>/", views.webhook, name="webhook"),
    path("notifications/webhooks/<int:pk>/test/", views.webhook_test, name="webhook_test"),
    path("notifications/webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook_delete"),
]
