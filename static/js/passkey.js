// After django-otp-webauthn stores a new passkey, reload so the Security page lists it (and shows
// the recovery codes that come with a first factor). No inline script: the CSP forbids it.
document.addEventListener("otp_webauthn.register_complete", () => window.location.reload());
