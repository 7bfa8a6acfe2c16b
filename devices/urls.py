from django.urls import path

from . import views

app_name = "devices"
urlpatterns = [
    path("", views.device_list, name="list"),
    path("sync/", views.sync_now, name="sync"),
    path("sync/status/", views.sync_status, name="sync_status"),
    path("<int:pk>/", views.device_detail, name="detail"),
    path("<int:pk>/power/", views.device_power, name="power"),
]
