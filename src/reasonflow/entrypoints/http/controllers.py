"""Route handlers: parse, call one use case, shape the answer. No rules here."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, HttpMethod, Request, Response, get, post, route
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from reasonflow.domain.accounts import InvalidAccount, SignInThrottled
from reasonflow.domain.errors import (
    BodyTooLarge,
    DatabaseUnavailable,
    DraftRequired,
    EmailNotFound,
    EmailTaken,
    InvalidCredentials,
    InvalidCursor,
    InvalidEmailTransition,
    UnsupportedUpload,
)
from reasonflow.domain.inbox import NewEmail
from reasonflow.domain.model import EMAIL_CURSOR, EmailStatus, Intent
from reasonflow.domain.ports import EmailFilter
from reasonflow.entrypoints.bootstrap import Services
from reasonflow.entrypoints.http.contract import (
    INVALID,
    JSON_BODY,
    SIGNED_IN,
    UPLOAD_TOO_LARGE,
    answers,
)
from reasonflow.entrypoints.http.dto import (
    ApproveIn,
    Credentials,
    EmailIn,
    EmailOut,
    EmailPage,
    ImportOut,
    Registration,
    TokenOut,
    UserOut,
)
from reasonflow.entrypoints.http.security import current_user

IMPORT_TYPES = frozenset(
    {"message/rfc822", "application/mbox", "application/octet-stream", "text/plain"}
)


def provide_services(state: State) -> Services:
    return state.services  # type: ignore[no-any-return]


def provide_user_id(request: Request[UUID, Any, Any], services: NamedDependency[Services]) -> UUID:
    """The caller's id.

    ``services`` is unused: asking for it resolves this dependency after
    ``provide_services`` rather than beside it. Litestar resolves the
    dependencies of one level concurrently, in an anyio task group per request,
    which cost a third of the status route's CPU (docs/benchmarks.md, row 5).
    """
    return current_user(request)


DEPENDENCIES = {"services": Provide(provide_services, sync_to_thread=False)}
AUTHENTICATED = DEPENDENCIES | {"user_id": Provide(provide_user_id, sync_to_thread=False)}


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]
    dependencies = DEPENDENCIES

    @post(
        "/register",
        status_code=HTTP_201_CREATED,
        operation_id="register",
        responses=answers(JSON_BODY, InvalidAccount, EmailTaken, DatabaseUnavailable),
    )
    async def register(
        self, data: JSONBody[Registration], services: NamedDependency[Services]
    ) -> UserOut:
        user = await services.accounts.register(data.email, data.password)
        return UserOut(user.id, user.email)

    @post(
        "/login",
        status_code=HTTP_200_OK,
        operation_id="signIn",
        responses=answers(JSON_BODY, InvalidCredentials, SignInThrottled, DatabaseUnavailable),
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[Credentials],
        services: NamedDependency[Services],
    ) -> TokenOut:
        # The direct peer's address; X-Forwarded-For is not trusted (docs/api.md).
        client = request.client.host if request.client is not None else ""
        user = await services.accounts.authenticate(data.email, data.password, client)
        token = services.tokens.issue(user.id, services.clock.now())
        return TokenOut(access_token=token.value, expires_in=token.expires_in)


class EmailController(Controller):
    path = "/api/v1/emails"
    tags = ["emails"]
    dependencies = AUTHENTICATED
    security = [{"BearerToken": []}]

    @route("/", http_method=HttpMethod.OPTIONS, include_in_schema=False, status_code=204)
    async def allow(self) -> Response[None]:
        """OPTIONS on the list path. Litestar's own answer for a path with two
        handlers names only the methods of the first one registered; the
        handlers of a controller register in name order, so this one (``allow``)
        comes first and no such answer is made (tests/integration/test_openapi_document.py)."""
        return Response(None, status_code=204, headers={"Allow": "GET, OPTIONS, POST"})

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        operation_id="createEmail",
        responses=answers(SIGNED_IN, JSON_BODY, DatabaseUnavailable),
    )
    async def create(
        self,
        data: JSONBody[EmailIn],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> EmailOut:
        new = NewEmail(
            data.subject, data.body, data.sender, data.recipient, data.received(), data.thread_id
        )
        return EmailOut.of(await services.inbox.add(user_id, new))

    # The upload's own limit (``IMPORT_MAX_BYTES``), checked while it is read.
    @post(
        "/import",
        status_code=HTTP_200_OK,
        request_max_body_size=None,
        operation_id="importEmails",
        responses=answers(SIGNED_IN, UPLOAD_TOO_LARGE, UnsupportedUpload, DatabaseUnavailable),
    )
    async def import_mail(
        self,
        request: Request[UUID, Any, Any],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
        state: State,
    ) -> ImportOut:
        """Import one message (``message/rfc822``) or a mailbox (``application/mbox``).

        Idempotent by Message-ID; malformed messages are reported and skipped.
        """
        content_type = request.headers.get("content-type", "")
        if content_type.partition(";")[0].strip().lower() not in IMPORT_TYPES:
            raise UnsupportedUpload()
        data = await _upload(request, state.settings.import_max_bytes)
        items = services.read_upload(data, content_type, now=services.clock.now())
        report = await services.inbox.import_messages(user_id, items)
        return ImportOut.of(report)

    @get(
        "/",
        operation_id="listEmails",
        responses=answers(SIGNED_IN, INVALID, InvalidCursor, DatabaseUnavailable),
    )
    async def list_emails(
        self,
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
        status: FromQuery[EmailStatus | None] = None,
        intent: FromQuery[Intent | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        cursor: Annotated[
            str | None,
            QueryParameter(pattern=EMAIL_CURSOR, description="next_cursor of the previous page"),
        ] = None,
        thread_id: Annotated[str | None, QueryParameter(min_length=1, max_length=255)] = None,
        order: FromQuery[Literal["newest", "oldest"]] = "newest",
    ) -> EmailPage:
        filters = EmailFilter(status, intent, thread_id, oldest_first=order == "oldest")
        page = await services.inbox.page(user_id, filters, limit, cursor)
        return EmailPage([EmailOut.of(e) for e in page.items], page.next_cursor)

    @get(
        "/{email_id:str}",
        operation_id="getEmail",
        responses=answers(SIGNED_IN, INVALID, EmailNotFound, DatabaseUnavailable),
    )
    async def get_email(
        self,
        email_id: FromPath[UUID],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> EmailOut:
        return EmailOut.of(await services.inbox.get(user_id, email_id))

    @post(
        "/{email_id:str}/approve",
        status_code=HTTP_200_OK,
        operation_id="approveEmail",
        responses=answers(
            SIGNED_IN,
            JSON_BODY,
            DraftRequired,
            EmailNotFound,
            InvalidEmailTransition,
            DatabaseUnavailable,
        ),
    )
    async def approve(
        self,
        email_id: FromPath[UUID],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
        data: JSONBody[ApproveIn | None] = None,
    ) -> EmailOut:
        draft = data.draft if data else None
        return EmailOut.of(await services.inbox.approve(user_id, email_id, draft))

    @post(
        "/{email_id:str}/reject",
        status_code=HTTP_200_OK,
        operation_id="rejectEmail",
        responses=answers(
            SIGNED_IN, INVALID, EmailNotFound, InvalidEmailTransition, DatabaseUnavailable
        ),
    )
    async def reject(
        self,
        email_id: FromPath[UUID],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> EmailOut:
        return EmailOut.of(await services.inbox.reject(user_id, email_id))

    @post(
        "/{email_id:str}/send",
        status_code=HTTP_200_OK,
        operation_id="sendEmail",
        responses=answers(
            SIGNED_IN,
            INVALID,
            EmailNotFound,
            InvalidEmailTransition,
            DatabaseUnavailable,
        ),
    )
    async def send(
        self,
        email_id: FromPath[UUID],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> EmailOut:
        return EmailOut.of(await services.inbox.send(user_id, email_id))


async def _upload(request: Request[UUID, Any, Any], limit: int) -> bytes:
    """The body, refused (413) as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit, "upload")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit, "upload")
        chunks.append(chunk)
    return b"".join(chunks)
