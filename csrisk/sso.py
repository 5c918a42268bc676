"""Single sign-on with OpenID Connect (issue 21; docs/sso.md).

mozilla-django-oidc runs the authorization-code flow (state, nonce, PKCE, the token
exchange, the signature of the ID token). This module gives it its configuration (the
settings, read from the environment, and the provider's discovery document), checks the
ID token's issuer and audience too, and decides who the person is and what they may do:
the role and team come from the provider's groups through the configured mapping
(``OIDC_ROLE_MAP``, ``OIDC_TEAM_MAP``), applied at every sign-in.

Who a sign-in is, in this order: the person already linked to the provider's subject
(``SsoIdentity``); else the one account with the same *verified* e-mail address (never a
superuser, never one linked to another subject); else a new user, just in time. An
unverified address that matches an account refuses the sign-in instead of linking: linking
it would hand the account to whoever can set that address at the provider.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core import checks
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import resolve_url
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from csrisk import audit, clock
from csrisk.models import SsoIdentity, Team, User
from csrisk.roles import Role

logger = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
DISCOVERY_CACHE_SECONDS = 3600
# Integrations have no pages and sign in with tokens only: no group may make one.
UNMAPPABLE_ROLES = frozenset({Role.INTEGRATION})
# Where the backend leaves the reason it refused a sign-in, for the callback's page.
REFUSAL_ATTR = "csrisk_sso_refusal"
# The session key mozilla-django-oidc keeps the ID token under (OIDC_STORE_ID_TOKEN).
ID_TOKEN_SESSION_KEY = "oidc_id_token"


def enabled() -> bool:
    """Single sign-on is on when an issuer and a client id are configured."""
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)


def password_login_enabled() -> bool:
    """Off: only superusers (the break-glass account) may sign in with a password."""
    return bool(settings.CSRISK_PASSWORD_LOGIN)


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be read, or does not describe it."""


def provider_metadata() -> dict[str, Any]:
    """The provider's discovery document, cached for an hour."""
    issuer = settings.OIDC_ISSUER.rstrip("/")
    key = f"csrisk:oidc-discovery:{issuer}"
    found = cache.get(key)
    if found is not None:
        return found
    url = issuer + DISCOVERY_PATH
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT_SECONDS)
        response.raise_for_status()
        found = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"reading {url} failed: {exc}") from exc
    if not isinstance(found, dict):
        raise ProviderUnavailable(f"{url} is not a discovery document")
    # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer that was asked.
    if str(found.get("issuer", "")).rstrip("/") != issuer:
        raise ProviderUnavailable(f"{url} names the issuer {found.get('issuer')!r}")
    missing = [
        k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not found.get(k)
    ]
    if missing:
        raise ProviderUnavailable(f"{url} lacks {', '.join(missing)}")
    cache.set(key, found, DISCOVERY_CACHE_SECONDS)
    return found


_DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


def library_setting(attr: str, *default: Any) -> Any:
    """What mozilla-django-oidc asks for, answered from csrisk's settings and discovery, so
    its configuration has one home (the OIDC_* settings of csrisk/settings.py)."""
    if attr in _DISCOVERED:
        return provider_metadata().get(_DISCOVERED[attr])
    ours: dict[str, Any] = {
        "OIDC_RP_CLIENT_ID": settings.OIDC_CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": settings.OIDC_CLIENT_SECRET,
        "OIDC_RP_SCOPES": settings.OIDC_SCOPES,
        "OIDC_RP_SIGN_ALGO": settings.OIDC_SIGN_ALGO,
        "OIDC_TIMEOUT": settings.OIDC_TIMEOUT_SECONDS,
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        # The ID token is the hint of an RP-initiated logout; kept only when one is wanted.
        "OIDC_STORE_ID_TOKEN": settings.OIDC_LOGOUT_AT_PROVIDER,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "sso-callback",
        "OIDC_CREATE_USER": settings.OIDC_CREATE_USERS,
    }
    if attr in ours:
        return ours[attr]
    return import_from_settings(attr, *default)


# --- The mapping from the provider's groups to roles and teams ---------------------------


@dataclasses.dataclass(frozen=True)
class Mapping:
    """Groups to roles and to teams, first match wins (``OIDC_ROLE_MAP``, ``OIDC_TEAM_MAP``)."""

    roles: tuple[tuple[str, str], ...]
    teams: tuple[tuple[str, str], ...]
    default_role: str
    groups_claim: str


def _pairs(raw: str, setting: str) -> tuple[tuple[str, str], ...]:
    """``group=value,group=value``, or a JSON object for groups holding commas (LDAP DNs)."""
    raw = raw.strip()
    if not raw:
        return ()
    if raw.startswith("{"):
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{setting} is not valid JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise ImproperlyConfigured(f"{setting} must be a JSON object of group: value")
        return tuple((str(k), str(v)) for k, v in parsed.items())
    pairs = []
    for item in raw.split(","):
        if not item.strip():
            continue
        group, sep, value = item.rpartition("=")
        if not sep or not group.strip() or not value.strip():
            raise ImproperlyConfigured(f"{setting}: {item.strip()!r} is not group=value")
        pairs.append((group.strip(), value.strip()))
    return tuple(pairs)


def _role(value: str, setting: str) -> str:
    if value not in Role.values or value in UNMAPPABLE_ROLES:
        allowed = ", ".join(r for r in Role.values if r not in UNMAPPABLE_ROLES)
        raise ImproperlyConfigured(f"{setting}: {value!r} is not a role (one of {allowed})")
    return value


def mapping() -> Mapping:
    """The configured mapping; ImproperlyConfigured names the setting that is wrong."""
    roles = tuple(
        (g, _role(r, "OIDC_ROLE_MAP")) for g, r in _pairs(settings.OIDC_ROLE_MAP, "OIDC_ROLE_MAP")
    )
    default = settings.OIDC_DEFAULT_ROLE.strip()
    return Mapping(
        roles=roles,
        teams=_pairs(settings.OIDC_TEAM_MAP, "OIDC_TEAM_MAP"),
        default_role=_role(default, "OIDC_DEFAULT_ROLE") if default else "",
        groups_claim=settings.OIDC_GROUPS_CLAIM,
    )


def groups_of(claims: dict[str, Any], claim: str) -> list[str]:
    """The person's groups: a list claim, or a single string (some providers send one)."""
    value = claims.get(claim)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


def map_claims(claims: dict[str, Any], rules: Mapping) -> tuple[str | None, str | None]:
    """(role, team name) for these claims: the first mapped group the person is in, in the
    order configured; the default role (or None: refused) when none is."""
    groups = set(groups_of(claims, rules.groups_claim))
    role = next((r for g, r in rules.roles if g in groups), rules.default_role or None)
    team = next((t for g, t in rules.teams if g in groups), None)
    return role, team


def check_configuration(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``manage.py check`` (and every server start) reports a mapping that cannot work."""
    problems: list[checks.CheckMessage] = []
    try:
        mapping()
    except ImproperlyConfigured as exc:
        problems.append(checks.Error(str(exc), id="csrisk.E021"))
    if bool(settings.OIDC_ISSUER) != bool(settings.OIDC_CLIENT_ID):
        problems.append(
            checks.Error("Set both OIDC_ISSUER and OIDC_CLIENT_ID, or neither.", id="csrisk.E022")
        )
    return problems


# --- Who the sign-in is -------------------------------------------------------------------


class SsoRefused(PermissionDenied):
    """A sign-in refused for a reason the person can read (and an administrator can fix)."""


def _email_verified(claims: dict[str, Any]) -> bool:
    # Some providers (AWS Cognito) send the boolean as a string.
    return claims.get("email_verified") in (True, "true", "True")


def _match_by_email(email: str, claims: dict[str, Any], issuer: str) -> User | None:
    """The one existing account this verified address belongs to; refuses rather than link
    an account that a provider account with an unverified address could take over."""
    candidates = list(User.objects.filter(email__iexact=email)[:2]) if email else []
    if not candidates:
        return None
    if not _email_verified(claims):
        raise SsoRefused(
            "A csrisk account with your e-mail address exists, but the identity provider does "
            "not say the address is verified, so it is not linked automatically. Ask an "
            "administrator to link it (Admin → SSO identities)."
        )
    if len(candidates) > 1:
        raise SsoRefused(
            "Several csrisk accounts share your e-mail address; ask an administrator to link "
            "yours (Admin → SSO identities)."
        )
    user = candidates[0]
    if user.is_superuser:
        raise SsoRefused(
            "Your e-mail address belongs to a superuser account, which is never linked by "
            "e-mail; an administrator links it by hand (Admin → SSO identities)."
        )
    if SsoIdentity.objects.filter(user=user, issuer=issuer).exists():
        raise SsoRefused(
            "The csrisk account with your e-mail address is linked to another account at the "
            "identity provider; ask an administrator."
        )
    return user


_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


def _free_username(claims: dict[str, Any]) -> str:
    """A username nobody has: the e-mail address, the preferred username or the subject."""
    wanted = str(claims.get("email") or claims.get("preferred_username") or f"sso-{claims['sub']}")
    base = _USERNAME_UNSAFE.sub("-", wanted)[:140] or "sso-user"
    name, n = base, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


@transaction.atomic
def sso_sign_in(*, issuer: str, claims: dict[str, Any]) -> User:
    """The user these verified claims sign in as, linked, created just in time and given
    the mapped role and team; ``SsoRefused`` with the reason otherwise."""
    subject = str(claims.get("sub") or "")
    if not subject:
        raise SsoRefused("The identity provider sent no subject (sub) for you.")
    role, team_name = map_claims(claims, mapping())
    if role is None:
        raise SsoRefused(
            "You are in none of the groups csrisk gives a role to (OIDC_ROLE_MAP); ask your "
            "administrator to add you to one."
        )
    email = str(claims.get("email") or "").strip()
    now = clock.now()
    identity = (
        SsoIdentity.objects.select_for_update()
        .select_related("user")
        .filter(issuer=issuer, subject=subject)
        .first()
    )
    created = linked = False
    if identity is not None:
        user = identity.user
    else:
        user = _match_by_email(email, claims, issuer)
        linked = user is not None
        if user is None:
            if not settings.OIDC_CREATE_USERS:
                raise SsoRefused(
                    "No csrisk account is linked to you, and accounts are not created at "
                    "sign-in here (OIDC_CREATE_USERS is off); ask your administrator."
                )
            user = User(
                username=_free_username(claims),
                email=email,
                first_name=str(claims.get("given_name") or "")[:150],
                last_name=str(claims.get("family_name") or "")[:150],
                role=role,
            )
            user.set_unusable_password()
            user.save()
            created = True
        identity = SsoIdentity.objects.create(
            user=user, issuer=issuer, subject=subject, created_at=now
        )
    if not user.is_active:
        raise SsoRefused("Your csrisk account is deactivated; ask an administrator.")
    if user.is_integration:
        raise SsoRefused("An integration account cannot sign in to pages.")

    changes: dict[str, tuple[Any, Any]] = {}
    if user.role != role:
        changes["role"] = (user.role, role)
        user.role = role
    if team_name:
        team = Team.objects.filter(name=team_name).first()
        if team is None:
            logger.warning("OIDC_TEAM_MAP names the team %r, which does not exist", team_name)
        else:
            if user.team_id != team.pk:
                changes["team"] = (user.team_id, team.pk)
                user.team = team
            # A team lead mapped into a team that has no lead leads it: a lead's pages
            # (the 1:1 review) are those of the teams they lead.
            if role == Role.TEAM_LEAD and team.lead_id is None:
                Team.objects.filter(pk=team.pk, lead__isnull=True).update(lead=user)
                audit.record(
                    actor=None,
                    action="sso_team_lead_set",
                    target=team,
                    changes={"lead": (None, user.pk)},
                    reason=f"mapped from the groups at {issuer}",
                )
    if changes:
        user.save(update_fields=[f for f in ("role", "team") if f in changes])
    SsoIdentity.objects.filter(pk=identity.pk).update(last_login_at=now)

    if created:
        audit.record(
            actor=user,
            action="sso_user_created",
            target=user,
            changes={"role": ("", role), "team": (None, user.team_id)},
            reason=f"first sign-in through {issuer}",
        )
    else:
        if linked:
            audit.record(
                actor=user,
                action="sso_linked",
                target=user,
                reason=f"verified e-mail {email} at {issuer} (subject {subject})",
            )
        if changes:
            audit.record(
                actor=None,
                action="sso_role_synced",
                target=user,
                changes=changes,
                reason=f"mapped from the groups at {issuer}",
            )
    return user


# --- Authentication backends --------------------------------------------------------------


class SsoBackend(OIDCAuthenticationBackend):
    """Answers only the SSO callback (which passes a nonce); silent when SSO is off."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads its settings here and raises when they are absent; ours are read
        # at each sign-in instead, so SSO can be off (and tests can switch it).
        self.UserModel = User
        self.issuer = ""

    get_settings = staticmethod(library_setting)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        if request is None or "nonce" not in kwargs or not enabled():
            return None
        metadata = provider_metadata()
        self.issuer = metadata["issuer"]
        self.OIDC_OP_TOKEN_ENDPOINT = metadata["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = metadata.get("userinfo_endpoint")
        self.OIDC_OP_JWKS_ENDPOINT = metadata["jwks_uri"]
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        return super().authenticate(request, **kwargs)

    def retrieve_matching_jwk(self, token: bytes | str) -> jwt.PyJWK:
        """The provider's signing key for this token: by its key id when the token names
        one (the library requires it; some providers leave it out with a single key)."""
        header = jwt.get_unverified_header(token)
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=settings.OIDC_TIMEOUT_SECONDS)
        response.raise_for_status()
        keys = [
            key
            for key in response.json().get("keys", [])
            if key.get("use", "sig") == "sig"
            and key.get("alg", header.get("alg")) == header.get("alg")
            and ("kid" not in header or key.get("kid") == header["kid"])
        ]
        if len(keys) != 1:
            raise SuspiciousOperation(f"{len(keys)} signing keys match the ID token, not one")
        return jwt.PyJWK(keys[0])

    def _verify_jws(self, payload: bytes | str, key: Any) -> dict[str, Any]:
        """The library checks only the signature: the issuer and the audience are checked
        here too, so a token the provider minted for another application is refused."""
        alg = jwt.get_unverified_header(payload).get("alg")
        if alg != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(f"ID token signed with {alg!r}, not {self.OIDC_RP_SIGN_ALGO}")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.issuer,
                leeway=60,
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc

    def get_userinfo(self, access_token: str, id_token: str, payload: dict) -> dict[str, Any]:
        if not self.OIDC_OP_USER_ENDPOINT:
            return {}
        return super().get_userinfo(access_token, id_token, payload)

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict) -> User:
        userinfo = self.get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core 5.3.2: a UserInfo answer about another subject is not used.
        if userinfo.get("sub", payload.get("sub")) != payload.get("sub"):
            raise SuspiciousOperation("the UserInfo subject is not the ID token's")
        try:
            return sso_sign_in(issuer=self.issuer, claims={**payload, **userinfo})
        except SsoRefused as refusal:
            setattr(self.request, REFUSAL_ATTR, str(refusal))
            logger.warning("SSO sign-in refused (subject %s): %s", payload.get("sub"), refusal)
            raise

    def get_user(self, user_id: int) -> User | None:
        return ModelBackend.get_user(self, user_id)


class PasswordLoginGate:
    """With ``CSRISK_PASSWORD_LOGIN`` off, refuses a password sign-in of anyone but a
    superuser (the break-glass account). Refusing by PermissionDenied stops the backends
    that follow and counts as a failed login for django-axes."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if password_login_enabled() or username is None or password is None:
            return None
        if User.objects.filter(**{User.USERNAME_FIELD: username, "is_superuser": True}).exists():
            return None
        raise PermissionDenied("password sign-in is for the break-glass superuser only")

    # No get_user: a session is never this backend's, and Django's test client logs in
    # (force_login) with the first backend that has one.


def provider_logout_url(request: HttpRequest) -> str | None:
    """Where to end the session at the provider too (RP-initiated logout), for a person
    who signed in through it and when ``OIDC_LOGOUT_AT_PROVIDER`` asks for it."""
    id_token = request.session.get(ID_TOKEN_SESSION_KEY)
    if not (enabled() and settings.OIDC_LOGOUT_AT_PROVIDER and id_token):
        return None
    try:
        endpoint = provider_metadata().get("end_session_endpoint")
    except ProviderUnavailable as exc:
        logger.warning("no logout at the provider: %s", exc)
        return None
    if not endpoint:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(
                resolve_url(settings.LOGOUT_REDIRECT_URL)
            ),
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
