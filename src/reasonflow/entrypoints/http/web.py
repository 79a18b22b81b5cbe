"""The browser UI: the page at ``/`` and its assets, with strict security headers.

The UI is plain HTML, CSS and ES modules in ``entrypoints/web`` (no build
step), talking only to the public JSON API. Files are read from the package on
each request (in a worker thread) and revalidated by ETag, so an edit shows on
the next reload and an unchanged file costs a 304.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

WEB_DIR = Path(__file__).resolve().parent.parent / "web"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Revalidate every time: without a build step file names carry no version, and
# a stale module next to a fresh page would break the UI.
CACHE_CONTROL = "no-cache"

# Litestar adds "; charset=utf-8" to text/* types itself.
CONTENT_TYPES = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
}
#: Flat names only: no directories, no dot-files, no path tricks.
ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(?:css|js|svg)$")


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


def _read(path: Path) -> Asset | None:
    if not path.is_file():
        return None
    body = path.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Asset(body, CONTENT_TYPES[path.suffix], etag)


async def load_asset(name: str) -> Asset | None:
    """The file ``name`` of the UI, or None; the disk is read off the event loop."""
    return await anyio.to_thread.run_sync(_read, WEB_DIR / name)


def _etag_matches(request: Request[Any, Any, Any], etag: str) -> bool:
    candidates = request.headers.get("if-none-match", "")
    return any(tag.strip().removeprefix("W/") in (etag, "*") for tag in candidates.split(","))


def serve(request: Request[Any, Any, Any], asset: Asset) -> Response[bytes]:
    headers = {**SECURITY_HEADERS, "Cache-Control": CACHE_CONTROL, "ETag": asset.etag}
    if _etag_matches(request, asset.etag):
        return Response(b"", status_code=304, headers=headers, media_type=asset.content_type)
    return Response(asset.body, headers=headers, media_type=asset.content_type)


class WebController(Controller):
    """``GET /`` (the single page) and ``GET /assets/<name>`` (its CSS, modules, icon)."""

    path = "/"
    include_in_schema = False

    @get("/")
    async def index(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        asset = await load_asset("index.html")
        if asset is None:
            raise NotFoundException()
        return serve(request, asset)

    @get("/assets/{name:str}")
    async def asset(self, name: FromPath[str], request: Request[Any, Any, Any]) -> Response[bytes]:
        asset = await load_asset(name) if ASSET_NAME.fullmatch(name) else None
        if asset is None:
            raise NotFoundException()
        return serve(request, asset)
