"""The upload endpoint for received NACHA files: an aiohttp server around ``process_file``.

``POST /ach/files?name=NAME`` takes the file as the body (at most ``BODY_MAX`` bytes),
processes it as ``ledger ach file process`` does, and answers the run's report once the
run ends: 200 with the file's id and status (COMPLETED, or PROCESSING when entries wait),
422 when the file FAILED validation, 409 when it is refused. ``GET /healthz`` answers
``{"status": "ok"}``. A file uploaded again is the same file: nothing posts twice.
"""

from __future__ import annotations

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


async def _upload(request: web.Request) -> web.Response:
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


def make_app(settings: RdfiSettings) -> web.Application:
    """The application: the upload route and the health check."""
    app = web.Application(client_max_size=BODY_MAX)
    app[_SETTINGS] = settings
    app.router.add_post(FILES_PATH, _upload)
    app.router.add_get(HEALTH_PATH, _health)
    return app


class FileServer:
    """The application on a TCP port; ``port`` 0 picks a free one (read it after
    ``start``)."""

    def __init__(self, settings: RdfiSettings, *, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.host = host
        self.port = port
        self.app = make_app(settings)
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
