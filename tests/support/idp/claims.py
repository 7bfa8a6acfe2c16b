from oidc_provider.lib.claims import ScopeClaims


def userinfo(claims, user):
    claims.update(email=user.email, email_verified=True, preferred_username=user.username,
                  given_name=user.first_name, family_name=user.last_name, name=user.get_full_name())
    return claims


class GroupsClaims(ScopeClaims):
    info_groups = ("Groups", "The groups you belong to.")

    def scope_groups(self):
        return {"groups": list(self.user.groups.values_list("name", flat=True))}
