from django.urls import path

from . import views

app_name = "monitoring"

urlpatterns = [
    path("health/live/", views.live, name="live"),
    path("health/ready/", views.ready, name="ready"),
    path("metrics", views.metrics_view, name="metrics"),
]
