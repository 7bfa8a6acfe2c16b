from django.urls import path

from . import views

app_name = "workflows"
urlpatterns = [
    path("devices/<int:pk>/rescue/", views.rescue, name="rescue"),
    path("devices/<int:pk>/boot-image/", views.boot_image, name="boot_image"),
    path("devices/<int:pk>/boot-image/<int:image_id>/", views.boot_image_confirm, name="boot_image_confirm"),
    path("devices/<int:pk>/unload-image/", views.unload_image, name="unload_image"),
    path("devices/<int:pk>/restart/", views.restart, name="restart"),
    path("devices/<int:pk>/reveal-password/", views.reveal_password, name="reveal_password"),
    path("devices/<int:pk>/reveal-password/shown/", views.password_shown, name="password_shown"),
    path("operations/<int:pk>/", views.operation, name="operation"),
    path("operations/<int:pk>/progress/", views.operation_progress, name="operation_progress"),
    path("batches/new/<str:kind>/", views.batch_new, name="batch_new"),
    path("batches/<int:pk>/", views.batch, name="batch"),
    path("batches/<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("operations/<int:pk>/extend/", views.extend_session, name="extend_session"),
    path("operations/<int:pk>/back-from-inside/", views.back_from_inside, name="back_from_inside"),
]
