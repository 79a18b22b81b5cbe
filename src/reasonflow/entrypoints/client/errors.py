"""What can go wrong talking to a server, each shown to the user in one line."""

from __future__ import annotations

from typing import Any

#: Exit codes: 0 everything succeeded, 1 some emails failed or a file had
#: problems, 2 the command could not do its work (refused, unreachable, signed out).
EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_ERROR = 2


class ClientError(Exception):
    """A problem the command reports on one line (never a stack trace)."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotLoggedIn(ClientError):
    def __init__(self, detail: str = "not signed in") -> None:
        super().__init__(f"{detail}: run `reasonflow login`")


class NetworkError(ClientError):
    """The request may or may not have reached the server (it is safe to retry
    a submission with the same Idempotency-Key)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"no answer from the ReasonFlow server at {url} ({reason})")


class ServerUnreachable(NetworkError):
    def __init__(self, url: str) -> None:
        ClientError.__init__(
            self,
            f"cannot reach the ReasonFlow server at {url} (connection refused); "
            "is `reasonflow serve` running, and is REASONFLOW_URL right?",
        )


class ApiError(ClientError):
    """The server answered with an error status; ``detail`` is its own message."""

    def __init__(
        self, status: int, detail: str, extra: Any = None, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{detail} (HTTP {status})")
        self.status = status
        self.detail = detail
        self.extra = extra
        self.retry_after = retry_after

    @property
    def temporary(self) -> bool:
        """Rate limited, too many unfinished jobs, or shutting down: wait and resend."""
        return self.status in (429, 503)
