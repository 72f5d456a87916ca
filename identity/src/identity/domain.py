"""The rules of staff accounts and signing in, in plain Python (no Flask, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email

STAFF_ROLES = ("admin", "advisor", "technician", "accountant")
STATUSES = ("active", "disabled")
# Roles whose holders must use a second factor when the garage turns TOTP on.
SECOND_FACTOR_ROLES = frozenset({"admin", "accountant"})
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256

AUDIT_KINDS = (
    "sign_in",
    "sign_in_failed",
    "account_locked",
    "token_issued",
    "refresh_token_reused",
    "token_revoked",
    "account_created",
    "roles_changed",
    "account_disabled",
    "account_enabled",
    "password_changed",
    "account_unlocked",
    "second_factor_enrolled",
    "signing_key_rotated",
    "password_reset_requested",
    "password_reset",
)


class AccountRuleBroken(ValueError):
    """Input an account cannot take; ``field`` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normalise_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountRuleBroken("email", "not an email address") from exc


def check_roles(roles: list[str]) -> list[str]:
    unknown = sorted(set(roles) - set(STAFF_ROLES))
    if unknown:
        raise AccountRuleBroken("roles", f"unknown roles {unknown}; roles are {list(STAFF_ROLES)}")
    if not roles:
        raise AccountRuleBroken("roles", "an account needs at least one role")
    return sorted(set(roles))


def check_password(password: str, *, email: str = "", name: str = "") -> str:
    """Length is what makes a password strong (NIST SP 800-63B): at least 12 characters,
    not the person's email or name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountRuleBroken("password", f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountRuleBroken("password", f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    if (email and lowered == email.lower()) or (name and lowered == name.lower()):
        raise AccountRuleBroken("password", "a password may not be the account's email or name")
    return password


def needs_second_factor(roles: list[str], *, required_by_garage: bool, enrolled: bool) -> bool:
    """An enrolled account always gives its code; when the garage requires it, admins and
    accountants must."""
    return enrolled or (required_by_garage and bool(SECOND_FACTOR_ROLES & set(roles)))


@dataclass(frozen=True)
class Throttle:
    account_failures: int
    lock_for: timedelta
    address_failures: int
    address_window: timedelta


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now


def after_failure(failed_attempts: int, throttle: Throttle, now: datetime) -> tuple[int, datetime | None]:
    """An account's failure count after one more failure, and until when it is locked:
    it locks at the limit, and the count starts again after the lock."""
    count = failed_attempts + 1
    if count >= throttle.account_failures:
        return 0, now + throttle.lock_for
    return count, None


def address_blocked(recent_failures: int, throttle: Throttle) -> bool:
    return recent_failures >= throttle.address_failures


# ------------------------------------------------------------------------- the sign-in page's words

LANGUAGES = ("en", "nl")
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Sign in",
        "heading": "Sign in to the garage",
        "email": "Email address",
        "password": "Password",  # nosec B105 - a form label  # pragma: allowlist secret
        "code": "Authentication code (6 digits)",
        "code_hint": "The code from your authenticator app.",
        "submit": "Sign in",
        "wrong": "The email address or password is wrong.",
        "code_wrong": "The authentication code is wrong or has expired.",
        "code_needed": "Enter the code from your authenticator app.",
        "locked": "Too many failed attempts. Try again in {minutes} minutes.",
        "address_blocked": "Too many failed attempts from this address. Try again later.",
        "expired": "The page expired. Please sign in again.",
        "bad_request": "This sign-in link is not valid.",
        "for_client": "You are signing in to {client}.",
        "forgot": "Forgot your password?",
        "reset_title": "Set a new password",
        "reset_intro": "Enter the email address of your account. We will email you a link to set a "
        "new password.",
        "reset_submit": "Email me a link",
        "reset_sent": "If an account with this email address exists, we have sent it a link to set a new "
        "password. The link works once, within {minutes} minutes.",
        "reset_address_blocked": "Too many requests from this address. Try again later.",
        "reset_link_invalid": "This link no longer works: it was used, a newer one was sent, or it expired. "
        "Ask for a new one.",
        "request_again": "Ask for a new link",
        "choose_label": "New password",
        "choose_hint": "At least 12 characters; not your email address or name.",
        "repeat_label": "New password again",
        "reset_save": "Set the password",
        "reset_differ": "The two passwords are not the same.",
        "reset_rules": "The password needs at least 12 characters and may not be your email address or name.",
        "reset_done": "Your new password is set. Every session signed in with the old one has ended.",
        "back_to_sign_in": "Back to sign in",
    },
    "nl": {
        "title": "Inloggen",
        "heading": "Inloggen bij de garage",
        "email": "E-mailadres",
        "password": "Wachtwoord",  # nosec B105 - a form label  # pragma: allowlist secret
        "code": "Verificatiecode (6 cijfers)",
        "code_hint": "De code uit uw authenticator-app.",
        "submit": "Inloggen",
        "wrong": "Het e-mailadres of het wachtwoord klopt niet.",
        "code_wrong": "De verificatiecode klopt niet of is verlopen.",
        "code_needed": "Vul de code uit uw authenticator-app in.",
        "locked": "Te veel mislukte pogingen. Probeer het over {minutes} minuten opnieuw.",
        "address_blocked": "Te veel mislukte pogingen vanaf dit adres. Probeer het later opnieuw.",
        "expired": "De pagina is verlopen. Log opnieuw in.",
        "bad_request": "Deze inloglink is niet geldig.",
        "for_client": "U logt in bij {client}.",
        "forgot": "Wachtwoord vergeten?",
        "reset_title": "Nieuw wachtwoord instellen",
        "reset_intro": "Vul het e-mailadres van uw account in. We sturen u een link om een nieuw wachtwoord "
        "in te stellen.",
        "reset_submit": "Stuur mij een link",
        "reset_sent": "Als er een account met dit e-mailadres bestaat, hebben we er een link naartoe "
        "gestuurd om een nieuw wachtwoord in te stellen. De link werkt één keer, binnen {minutes} minuten.",
        "reset_address_blocked": "Te veel aanvragen vanaf dit adres. Probeer het later opnieuw.",
        "reset_link_invalid": "Deze link werkt niet meer: hij is gebruikt, er is een nieuwere verstuurd "
        "of hij is verlopen. Vraag een nieuwe aan.",
        "request_again": "Nieuwe link aanvragen",
        "choose_label": "Nieuw wachtwoord",
        "choose_hint": "Minstens 12 tekens; niet uw e-mailadres of naam.",
        "repeat_label": "Nieuw wachtwoord nogmaals",
        "reset_save": "Wachtwoord instellen",
        "reset_differ": "De twee wachtwoorden zijn niet gelijk.",
        "reset_rules": "Het wachtwoord moet minstens 12 tekens hebben en mag niet uw e-mailadres of "
        "naam zijn.",
        "reset_done": "Uw nieuwe wachtwoord is ingesteld. Elke sessie met het oude wachtwoord is beëindigd.",
        "back_to_sign_in": "Terug naar inloggen",
    },
}


def pick_language(accepted: list[tuple[str, float]]) -> str:
    """The first of the browser's languages (by quality) the page speaks, else English."""
    for tag, _quality in sorted(accepted, key=lambda item: -item[1]):
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return "en"
