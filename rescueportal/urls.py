from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.forms import LoginForm

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="devices:list", permanent=False)),
    path("login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("devices/", include("devices.urls")),
    path("users/", include("accounts.urls")),
    path("", include("workflows.urls")),
    path("audit/", include("review.urls")),  # the "audit:" URL names
    path("admin/", admin.site.urls),
]

handler500 = "rescueportal.errors.server_error"
