"""The console's static files, gzip-compressed for browsers that accept it.

The ECharts bundle is 0.7 MB as built and about a third of that compressed. A gzip middleware
would compress it again on every request (tens of milliseconds of the server's CPU each time),
so each script and style sheet is compressed once, when first asked for, and kept for as long
as the file's size and modification time stay the same.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

COMPRESSED_SUFFIXES = (".js", ".css")
KEPT_HEADERS = ("content-type", "last-modified", "etag", "cache-control")


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header value allows gzip (``gzip`` or ``*``, not ``q=0``)."""
    for part in accept_encoding.split(","):
        coding, _, parameters = part.partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        quality = parameters.strip().removeprefix("q=").strip()
        try:
            if parameters.strip() and float(quality) == 0:
                continue
        except ValueError:
            continue
        return True
    return False


class CompressedStaticFiles(StaticFiles):
    """StaticFiles answering GETs of scripts and style sheets gzip-compressed when accepted
    (with its own ETag, so a revalidation of either form gets its 304)."""

    def __init__(self, *, directory: Path) -> None:
        super().__init__(directory=directory)
        self._compressed: dict[str, tuple[tuple[int, int], bytes]] = {}

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        path = os.fspath(full_path)
        if scope["method"] != "GET" or not path.endswith(COMPRESSED_SUFFIXES):
            return response
        response.headers["vary"] = "Accept-Encoding"
        request = Headers(scope=scope)
        if response.status_code != 200 or not accepts_gzip(request.get("accept-encoding", "")):
            return response
        headers = {k: v for k, v in response.headers.items() if k in KEPT_HEADERS}
        if "etag" in headers:
            headers["etag"] = headers["etag"].rstrip('"') + '-gzip"'
            if headers["etag"] in request.get("if-none-match", ""):
                return NotModifiedResponse(Headers(headers))
        headers.update({"content-encoding": "gzip", "vary": "Accept-Encoding"})
        return Response(self._gzip(path, stat_result), headers=headers)

    def _gzip(self, path: str, stat_result: os.stat_result) -> bytes:
        version = (stat_result.st_mtime_ns, stat_result.st_size)
        kept = self._compressed.get(path)
        if kept is None or kept[0] != version:
            data = gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0)
            kept = self._compressed[path] = (version, data)
        return kept[1]
