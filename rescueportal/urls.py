from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import factor_views
from accounts import views as account_views
from accounts.forms import LoginForm

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="devices:list", permanent=False)),
    path("login/", account_views.PortalLoginView.as_view(authentication_form=LoginForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/forgot/", account_views.ForgotPasswordView.as_view(), name="password_reset"),
    path("login/forgot/sent/", auth_views.PasswordResetDoneView.as_view(template_name="registration/forgot_sent.html"),
         name="password_reset_done"),
    path("login/reset/<uidb64>/<token>/", account_views.ResetConfirmView.as_view(), name="password_reset_confirm"),
    path("login/reset/done/", auth_views.PasswordResetCompleteView.as_view(
        template_name="registration/reset_complete.html"), name="password_reset_complete"),
    path("account/password/", account_views.password_change, name="password_change"),
    path("login/verify/", factor_views.second_factor, name="second_factor"),
    path("account/security/", factor_views.security, name="security"),
    path("account/security/authenticator/", factor_views.authenticator_add, name="authenticator_add"),
    path("account/security/recovery-codes/", factor_views.recovery_codes, name="recovery_codes"),
    path("account/security/<str:kind>/<int:pk>/remove/", factor_views.factor_remove, name="factor_remove"),
    path("account/passkeys/", include("accounts.passkeys")),
    path("login/sso/", include("accounts.sso")),
    path("devices/", include("devices.urls")),
    path("users/", include("accounts.urls")),
    path("", include("workflows.urls")),
    path("audit/", include("review.urls")),  # the "audit:" URL names
    path("", include("notifications.urls")),
    path("", include("api.urls")),
    path("", include("monitoring.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "rescueportal.errors.server_error"
handler404 = "rescueportal.errors.not_found"
handler400 = "rescueportal.errors.bad_request"
handler403 = "rescueportal.errors.permission_denied"
