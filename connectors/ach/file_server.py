"""The upload endpoint for received NACHA files: an aiohttp server around ``process_file``.

``POST /ach/files?name=NAME`` takes the file as the body (at most ``BODY_MAX`` bytes),
processes it as ``ledger ach file process`` does, and answers the run's report once the
run ends: 200 with the file's id and status (COMPLETED, or PROCESSING when entries wait),
422 when the file FAILED validation, 409 when it is refused. ``GET /healthz`` answers
``{"status": "ok"}``. A file uploaded again is the same file: nothing posts twice.

Every upload must carry ``Authorization: Bearer <token>``, the token the server was given
(compared in constant time, before the body is read); otherwise it is answered 401 and
nothing is read or posted. The token is in no log and no answer.
"""

from __future__ import annotations

import hmac
import logging
from typing import Final

from aiohttp import web

from connectors.ach.files import AchFileStatus
from connectors.ach.rdfi_processor import FileRefusedError, RdfiSettings, process_file
from streams.errors import LedgerError

log = logging.getLogger(__name__)

FILES_PATH: Final = "/ach/files"
HEALTH_PATH: Final = "/healthz"
# 100,000 entries with an addenda each are about 19 MB.
BODY_MAX: Final = 256 * 1024 * 1024
_SETTINGS: Final = web.AppKey("rdfi_settings", RdfiSettings)
_TOKEN: Final = web.AppKey("upload_token", bytes)
# A token shorter than this is refused when the server starts: it could be guessed.
TOKEN_LENGTH_MIN: Final = 24


async def _upload(request: web.Request) -> web.Response:
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                             request.app[_TOKEN]):
        return web.json_response(
            {"code": "unauthenticated",
             "message": "an upload needs Authorization: Bearer <the server's upload token>"},
            status=401, headers={"WWW-Authenticate": "Bearer"})
    name = request.query.get("name", "upload")[:200]
    content = await request.read()
    try:
        report = await process_file(content, name, request.app[_SETTINGS])
    except FileRefusedError as refused:
        return web.json_response({"code": refused.code, "message": refused.message},
                                 status=409)
    except LedgerError as error:
        log.error("ach file upload %r failed: %s", name, error)
        return web.json_response({"code": "ach_file_processing_failed",
                                  "message": str(error)}, status=503)
    status = 422 if report.status is AchFileStatus.FAILED else 200
    return web.json_response(report.to_json(), status=status)


async def _health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def make_app(settings: RdfiSettings, token: str) -> web.Application:
    """The application: the upload route (for holders of ``token``) and the health check."""
    if len(token) < TOKEN_LENGTH_MIN:
        raise LedgerError(f"the upload token must be at least {TOKEN_LENGTH_MIN} characters")
    app = web.Application(client_max_size=BODY_MAX)
    app[_SETTINGS] = settings
    app[_TOKEN] = token.encode()
    app.router.add_post(FILES_PATH, _upload)
    app.router.add_get(HEALTH_PATH, _health)
    return app


class FileServer:
    """The application on a TCP port; ``port`` 0 picks a free one (read it after
    ``start``)."""

    def __init__(self, settings: RdfiSettings, token: str, *, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.host = host
        self.port = port
        self.app = make_app(settings, token)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The upload endpoint."""
        return f"http://{self.host}:{self.port}{FILES_PATH}"

    async def start(self) -> FileServer:
        """Listen; return once uploads are accepted."""
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        log.info("serving ACH file uploads at %s", self.url)
        return self

    async def stop(self) -> None:
        """Stop listening; a run in progress ends with the request."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
