"""Sign-in (password + TOTP), the current user, sign-out, TOTP enrolment."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from core_app.api.deps import CoreDep, CurrentActor, PolicyDep, TokenDep, signed_in
from core_app.api.errors import errors
from core_app.api.on_the_loop import CoreRoute
from core_app.api.schemas import SessionOut, SignIn, TotpConfirm, TotpEnrolOut, UserOut
from core_app.domain.staff import Actor
from core_app.service_layer import sessions

router = APIRouter(prefix="/v1/auth", tags=["auth"], route_class=CoreRoute)


def _user(actor: Actor) -> UserOut:
    return UserOut(
        user_id=actor.user_id or 0,
        username=actor.username,
        role=actor.role,
        clinic_id=actor.clinic_id,
    )


@router.post(
    "/sign-in",
    response_model=SessionOut,
    status_code=201,
    responses=errors(401, 422, 429, 503),
    summary="Sign in with password and (for admins, managers and the enrolled) a TOTP code",
)
def sign_in(body: SignIn, app: CoreDep, policy: PolicyDep) -> SessionOut:
    issued = sessions.sign_in(
        app.uow(), policy, username=body.username, password=body.password, totp_code=body.totp_code
    )
    return SessionOut(
        token=issued.token,
        expires_at=issued.expires_at,
        idle_timeout_s=issued.idle_timeout_s,
        user=_user(issued.actor),
    )


@router.get(
    "/me",
    response_model=UserOut,
    dependencies=[Depends(signed_in)],
    responses=errors(401, 503),
    summary="The signed-in user",
)
def me(actor: CurrentActor) -> UserOut:
    return _user(actor)


@router.post(
    "/sign-out",
    status_code=204,
    dependencies=[Depends(signed_in)],
    responses=errors(401, 503),
    summary="Revoke this session's token",
)
def sign_out(app: CoreDep, actor: CurrentActor, token: TokenDep) -> None:
    sessions.sign_out(app.uow(), actor, token)


@router.post(
    "/totp/enrol",
    response_model=TotpEnrolOut,
    status_code=201,
    dependencies=[Depends(signed_in)],
    responses=errors(401, 422, 503),
    summary="Start TOTP enrolment: a new secret for your authenticator app",
)
def totp_enrol(app: CoreDep, actor: CurrentActor) -> TotpEnrolOut:
    found = sessions.enrol_totp(app.uow(), actor, username=actor.username)
    return TotpEnrolOut(secret=found.secret, provisioning_uri=found.provisioning_uri)


@router.post(
    "/totp/confirm",
    status_code=204,
    dependencies=[Depends(signed_in)],
    responses=errors(401, 422, 503),
    summary="Confirm TOTP enrolment with a first code (sign-in needs a code from then on)",
)
def totp_confirm(body: TotpConfirm, app: CoreDep, actor: CurrentActor) -> None:
    sessions.confirm_totp(app.uow(), actor, body.code)
