from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_log, name="log"),
    path("export.csv", views.export, {"fmt": "csv"}, name="export_csv"),
    path("export.jsonl", views.export, {"fmt": "jsonl"}, name="export_jsonl"),
    path("rescues/", views.rescues, name="rescues"),
    path("operations/<int:pk>/", views.story, name="story"),
    path("integrity/", views.integrity, name="integrity"),
]
