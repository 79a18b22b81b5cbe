"""Where the client finds its server and its token: ``REASONFLOW_URL`` and
``REASONFLOW_TOKEN_FILE`` (never the server's settings)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reasonflow.entrypoints.client.errors import ClientError, NotLoggedIn

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TOKEN_FILE = "~/.config/reasonflow/token"  # noqa: S105 - a path, not a secret


@dataclass(frozen=True)
class ClientConfig:
    url: str
    token_file: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ClientConfig:
        url = (env.get("REASONFLOW_URL") or DEFAULT_URL).strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ClientError(f"REASONFLOW_URL must be an http:// or https:// URL (got {url!r})")
        token_file = env.get("REASONFLOW_TOKEN_FILE") or DEFAULT_TOKEN_FILE
        return cls(url, Path(token_file).expanduser())

    def read_token(self) -> str:
        try:
            token = self.token_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise NotLoggedIn() from None
        except OSError as exc:
            raise ClientError(f"cannot read {self.token_file}: {exc.strerror}") from None
        if not token:
            raise NotLoggedIn()
        return token

    def save_token(self, token: str) -> None:
        """Write the token readable by its owner only (0600), replacing any old one."""
        folder = self.token_file.parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            # mkstemp creates the file 0600, so the token is never readable by others.
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=".token-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as file:
                    file.write(token + "\n")
                os.replace(temporary, self.token_file)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ClientError(f"cannot write {self.token_file}: {exc.strerror}") from None
