from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and access"

    def ready(self) -> None:
        from django.contrib.auth import signals

        from audit import events

        events.register("auth.login", "auth.login_failed", "auth.logout", "auth.reauth_failed",
                        "auth.password_change", "auth.password_reset_request",
                        "auth.second_factor", "auth.second_factor.add", "auth.second_factor.remove",
                        "account.two_factor_rule", "auth.sso", "sso.mapping", "security.csrf_rejected",
                        group="Sign-in and security")
        events.register("user.view", "user.create", "user.password_reset", "user.deactivate", "user.reactivate",
                        "user.permission.grant", "user.permission.revoke", "user.role.grant", "user.role.revoke",
                        "user.device_access.grant", "user.device_access.revoke", "user.second_factor.reset",
                        "user.step_up", "user.email", group="Users")

        from . import receivers

        # Django reports logins only by signal; each receiver is one audit.record() call.
        signals.user_logged_in.connect(receivers.logged_in, dispatch_uid="audit-login")
        signals.user_logged_out.connect(receivers.logged_out, dispatch_uid="audit-logout")
        signals.user_login_failed.connect(receivers.login_failed, dispatch_uid="audit-login-failed")
