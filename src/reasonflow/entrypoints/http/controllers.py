"""Route handlers: parse, call one use case, shape the answer. No rules here."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from reasonflow.domain.errors import JobNotFound
from reasonflow.domain.inbox import NewEmail
from reasonflow.domain.model import EmailStatus, Intent
from reasonflow.domain.ports import EmailFilter
from reasonflow.entrypoints.bootstrap import Services
from reasonflow.entrypoints.http.dto import (
    AcceptedOut,
    ApproveIn,
    ClassifyIn,
    Credentials,
    EmailIn,
    EmailOut,
    EmailPage,
    JobOut,
    ProcessIn,
    TokenOut,
    UserOut,
)
from reasonflow.entrypoints.http.security import current_user

JOB_ID_PATTERN = r"^(cls|prc)_[0-9a-f]{16}$"


def provide_services(state: State) -> Services:
    return state.services  # type: ignore[no-any-return]


DEPENDENCIES = {"services": Provide(provide_services, sync_to_thread=False)}
AUTHENTICATED = DEPENDENCIES | {"user_id": Provide(current_user, sync_to_thread=False)}


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]
    dependencies = DEPENDENCIES

    @post("/register", status_code=HTTP_201_CREATED)
    async def register(
        self, data: JSONBody[Credentials], services: NamedDependency[Services]
    ) -> UserOut:
        user = await services.accounts.register(data.email, data.password)
        return UserOut(user.id, user.email)

    @post("/login", status_code=HTTP_200_OK)
    async def login(
        self, data: JSONBody[Credentials], services: NamedDependency[Services]
    ) -> TokenOut:
        user = await services.accounts.authenticate(data.email, data.password)
        token = services.tokens.issue(user.id, services.clock.now())
        return TokenOut(access_token=token.value, expires_in=token.expires_in)


class EmailController(Controller):
    path = "/api/v1/emails"
    tags = ["emails"]
    dependencies = AUTHENTICATED
    security = [{"BearerToken": []}]

    @post("/", status_code=HTTP_201_CREATED)
    async def create(
        self,
        data: JSONBody[EmailIn],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> EmailOut:
        new = NewEmail(
            data.subject, data.body, data.sender, data.recipient, data.received_at, data.thread_id
        )
        return EmailOut.of(await services.inbox.add(user_id, new))

    @get("/")
    async def list_emails(
        self,
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
        status: FromQuery[EmailStatus | None] = None,
        intent: FromQuery[Intent | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
    ) -> EmailPage:
        page = await services.inbox.page(user_id, EmailFilter(status, intent), limit, cursor)
        return EmailPage([EmailOut.of(e) for e in page.items], page.next_cursor)

    @get("/{email_id:str}")
    async def get_email(
        self,
        email_id: FromPath[UUID],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> EmailOut:
        return EmailOut.of(await services.inbox.get(user_id, email_id))

    @post("/{email_id:str}/approve", status_code=HTTP_200_OK)
    async def approve(
        self,
        email_id: FromPath[UUID],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
        data: JSONBody[ApproveIn | None] = None,
    ) -> EmailOut:
        draft = data.draft if data else None
        return EmailOut.of(await services.inbox.approve(user_id, email_id, draft))

    @post("/{email_id:str}/reject", status_code=HTTP_200_OK)
    async def reject(
        self,
        email_id: FromPath[UUID],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> EmailOut:
        return EmailOut.of(await services.inbox.reject(user_id, email_id))

    @post("/{email_id:str}/send", status_code=HTTP_200_OK)
    async def send(
        self,
        email_id: FromPath[UUID],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> EmailOut:
        return EmailOut.of(await services.inbox.send(user_id, email_id))


class BatchController(Controller):
    path = "/api/v1/emails/batch"
    tags = ["batch"]
    dependencies = AUTHENTICATED
    security = [{"BearerToken": []}]

    @post("/classify", status_code=HTTP_202_ACCEPTED)
    async def classify(
        self,
        data: JSONBody[ClassifyIn],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> AcceptedOut:
        job = await services.batch.submit_classify(user_id, data.email_ids, data.force)
        return AcceptedOut.of(job)

    @post("/process", status_code=HTTP_202_ACCEPTED)
    async def process(
        self,
        data: JSONBody[ProcessIn],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> AcceptedOut:
        job = await services.batch.submit_process(user_id, data.email_ids)
        return AcceptedOut.of(job)

    @get("/status/{job_id:str}")
    async def status(
        self,
        job_id: FromPath[str],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> JobOut:
        if len(job_id) != 20:
            raise JobNotFound()
        return JobOut.of(await services.batch.status(user_id, job_id))
