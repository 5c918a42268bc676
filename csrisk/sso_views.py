"""The log-in page, single sign-on's start and callback, and logout (docs/sso.md).

Every way a callback can go wrong answers a page with the reason and a 4xx (503 while the
provider cannot be reached), never a 500: a forged or stale answer (state mismatch), a code
the provider refuses, an ID token that does not verify, a person the mapping refuses.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from csrisk import sso

logger = logging.getLogger(__name__)


def sign_in_failed(request: HttpRequest, status: int, reason: str) -> HttpResponse:
    """The page a sign-in that did not complete answers with: what happened, what next."""
    response = render(
        request,
        "registration/sso_failed.html",
        {"reason": reason, "provider_name": settings.OIDC_PROVIDER_NAME},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


class LoginView(auth_views.LoginView):
    """The password form and, when configured, "Sign in with <provider>"."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        sso_on = sso.enabled()
        password_on = sso.password_login_enabled()
        context.update(
            sso_enabled=sso_on,
            sso_name=settings.OIDC_PROVIDER_NAME,
            password_login=password_on,
            # With password sign-in off, the form is the break-glass door: shown on asking
            # (?local=1), after a try, or when there is no other way in.
            show_password_form=(
                password_on
                or not sso_on
                or self.request.GET.get("local") == "1"
                or self.request.method == "POST"
            ),
        )
        return context


class SsoStartView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider with a fresh state, nonce and PKCE challenge."""

    get_settings = staticmethod(sso.library_setting)

    def __init__(self, **kwargs: Any) -> None:
        # The library reads its settings here; ours are read per request (sso.enabled()).
        View.__init__(self, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso.enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            metadata = sso.provider_metadata()
        except sso.ProviderUnavailable as exc:
            logger.warning("SSO start: %s", exc)
            return _provider_unreachable(request)
        self.OIDC_OP_AUTH_ENDPOINT = metadata["authorization_endpoint"]
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        return super().get(request)


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: checked, exchanged for tokens, and the person signed in."""

    get_settings = staticmethod(sso.library_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso.enabled():
            raise Http404("Single sign-on is not configured.")
        error = request.GET.get("error")
        if error:
            said = request.GET.get("error_description") or error
            return sign_in_failed(
                request, 403, f"{settings.OIDC_PROVIDER_NAME} did not sign you in: {said}."
            )
        state, code = request.GET.get("state"), request.GET.get("code")
        if not state or not code:
            return sign_in_failed(
                request, 400, "The answer from the identity provider lacks its code or state."
            )
        if state not in request.session.get("oidc_states", {}):
            return sign_in_failed(
                request,
                400,
                "This answer does not belong to a sign-in started in this browser (state "
                "mismatch): it is stale, was used already, or was forged.",
            )
        try:
            return super().get(request)
        except (SuspiciousOperation, jwt.PyJWTError) as exc:
            logger.warning("SSO callback refused: %s", exc)
            return sign_in_failed(
                request, 400, "The identity provider's answer could not be verified."
            )
        except requests.HTTPError as exc:
            logger.warning("SSO token exchange refused: %s", exc)
            return sign_in_failed(
                request,
                400,
                "The identity provider refused the sign-in code (it expired or was used already).",
            )
        except (requests.RequestException, sso.ProviderUnavailable) as exc:
            logger.warning("SSO callback: provider unreachable: %s", exc)
            return _provider_unreachable(request)

    def login_failure(self) -> HttpResponse:
        # A lockout (django-axes) is turned into its own page by AxesMiddleware.
        reason = getattr(self.request, sso.REFUSAL_ATTR, "") or "Your sign-in was refused."
        return sign_in_failed(self.request, 403, reason)


def _provider_unreachable(request: HttpRequest) -> HttpResponse:
    response = sign_in_failed(
        request,
        503,
        "The identity provider cannot be reached right now; try again in a minute.",
    )
    response["Retry-After"] = "60"
    return response


class LogoutView(auth_views.LogoutView):
    """Ends the session here and, when configured, at the provider (RP-initiated)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        at_provider = sso.provider_logout_url(request)  # before the session is flushed
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(at_provider) if at_provider else response
