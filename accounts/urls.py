from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("", views.users_list, name="list"),
    path("new/", views.user_create, name="create"),
    path("<int:pk>/", views.user_detail, name="detail"),
    path("<int:pk>/capabilities/", views.user_capabilities, name="capabilities"),
    path("<int:pk>/roles/", views.user_roles, name="roles"),
    path("<int:pk>/devices/", views.user_devices, name="devices"),
    path("<int:pk>/status/", views.user_status, name="status"),
    path("<int:pk>/password/", views.user_password_reset, name="password_reset"),
    path("<int:pk>/second-factors/reset/", views.user_second_factor_reset, name="second_factor_reset"),
    path("two-factor-rule/", views.two_factor_rule, name="two_factor_rule"),
    path("sso/", views.sso_mappings, name="sso"),
    path("sso/<int:pk>/delete/", views.sso_mapping_delete, name="sso_delete"),
]
