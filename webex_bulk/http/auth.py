"""The access token's lifecycle: refresh before expiry or after a 401 (single flight, retried
through the one retry decision), new secrets handed to the log redactor, and a rotated refresh
token written back to the token file through the writer the engine injects (atomic, mode 0600).
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import random
import stat
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import yarl

from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.error_handling import (
    AuthError,
    HttpClass,
    NetworkError,
    StorageError,
    classify_status,
)
from webex_bulk.http.answers import Answer, Response, error_details, judge, parse_json
from webex_bulk.http.retry import FailureKind, GiveUp, decide_retry
from webex_bulk.http.stats import ClientStats
from webex_bulk.http.transport import exchange
from webex_bulk.log import add_secret

log = logging.getLogger("webex_bulk.http")

#: Writes ``data`` to ``path`` all at once with mode 0600 (the engine passes the run's writer).
SaveFile = Callable[[Path, bytes], None]
#: A token file larger than this is not a token file.
TOKEN_FILE_MAX_BYTES = 64 * 1024


def _event(level: int, name: str, **fields: Any) -> None:
    log.log(level, name, extra={"event_fields": fields})


def warn_if_readable_by_others(path: Path | None) -> None:
    """Log ``auth.token_file_open`` when the token file's mode lets group or others in."""
    if path is None:
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return  # reading it already succeeded or failed with its own message
    if mode & 0o077:
        _event(
            logging.WARNING,
            "auth.token_file_open",
            path=str(path),
            mode=f"{mode:04o}",
            fix=f"chmod 600 {path}",
        )


def merged_token_file(path: Path, updates: dict[str, str]) -> bytes:
    """The token file's JSON with ``updates`` merged in, other keys kept. Raises OSError, or
    ValueError when the present file is not a JSON object (it is then left untouched)."""
    try:
        raw = path.read_bytes()[: TOKEN_FILE_MAX_BYTES + 1]
    except FileNotFoundError:
        raw = b"{}"
    try:
        current = jsonlib.loads(raw.decode("utf-8")) if len(raw) <= TOKEN_FILE_MAX_BYTES else None
    except (ValueError, RecursionError):
        current = None
    if not isinstance(current, dict):
        raise ValueError("the token file is not a JSON object")
    current.update(updates)
    return (jsonlib.dumps(current, indent=2) + "\n").encode("utf-8")


class TokenKeeper:
    """The current access token of a client, and how to get a new one."""

    def __init__(
        self,
        settings: Settings,
        credentials: Credentials,
        session: aiohttp.ClientSession,
        *,
        stats: ClientStats,
        clock: Callable[[], float],
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]],
        rng: random.Random,
        tracking_id: Callable[[], str],
        save_file: SaveFile | None,
    ) -> None:
        self._settings = settings
        self._credentials = credentials
        self._session = session
        self._stats = stats
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._rng = rng
        self._tracking_id = tracking_id
        self._save_file = save_file
        self._url = yarl.URL(settings.base_url.rstrip("/")) / "access_token"
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=settings.connect_timeout, sock_read=settings.read_timeout
        )
        self._token = credentials.access_token
        self._refresh_token = credentials.refresh_token
        self._refresh_due: float | None = None
        self._lock = asyncio.Lock()
        warn_if_readable_by_others(credentials.token_file)

    def can_refresh(self) -> bool:
        """Whether a refresh grant is possible (refresh token, client id and secret)."""
        c = self._credentials
        return bool(self._refresh_token and c.client_id and c.client_secret)

    async def current(self) -> str:
        """The token to send now; refreshed first when there is none or it is about to expire."""
        if self._token is None or (self._refresh_is_due() and self.can_refresh()):
            await self.refresh(used=self._token)
        if self._token is None:  # pragma: no cover - refresh sets it or raises
            raise AuthError("no access token")
        return self._token

    async def refresh(self, used: str | None) -> None:
        """Single flight: concurrent callers that saw the same token share one refresh."""
        async with self._lock:
            if self._token is not None and self._token != used and not self._refresh_is_due():
                return  # another request refreshed it while this one waited
            if not self.can_refresh():
                raise AuthError(
                    "no usable access token and no refresh credentials — set WEBEX_TOKEN, or "
                    "give client id, client secret and refresh token in the token file"
                )
            await self._grant()

    def scrub(self, text: str) -> str:
        """``text`` with every secret known to this client replaced by ``***``."""
        for secret in (self._token, self._refresh_token, *self._credentials.secrets()):
            if secret:
                text = text.replace(secret, "***")
        return text

    def _refresh_is_due(self) -> bool:
        return self._refresh_due is not None and self._clock() >= self._refresh_due

    async def _grant(self) -> None:
        """``POST /access_token`` until it answers; waits and gives up as ``decide_retry`` says
        (a grant may be re-sent: it changes nothing until its answer is read)."""
        form = {
            "grant_type": "refresh_token",
            "client_id": self._credentials.client_id or "",
            "client_secret": self._credentials.client_secret or "",
            "refresh_token": self._refresh_token or "",
        }
        started = self._clock()
        attempts = rate_limited = 0
        while True:
            ours = self._tracking_id()
            headers = {"Accept": "application/json", "TrackingID": ours}
            result = await exchange(
                self._session, "POST", self._url, headers, form=form, timeouts=self._timeout
            )
            if isinstance(result, Answer):
                self._refused_if_client_error(result)
                body = parse_json(result.raw)
                judged = judge(
                    "POST",
                    "/access_token",
                    result,
                    body=body,
                    tracking_id=ours,
                    now_epoch=self._wall_clock(),
                    settings=self._settings,
                    scrub=self.scrub,
                )
                if isinstance(judged, Response):
                    await self._store(judged.body)
                    return
                failure = judged
            else:
                failure = result
            if failure.kind is FailureKind.RATE_LIMITED:
                rate_limited += 1
            else:
                attempts += 1
            decision = decide_retry(
                "POST",
                failure,
                attempts=attempts,
                rate_limited=rate_limited,
                elapsed=self._clock() - started,
                settings=self._settings,
                rng=self._rng,
                replayable=True,
            )
            if isinstance(decision, GiveUp):
                _event(logging.ERROR, "auth.refresh_failed", cause=decision.reason)
                if decision.unreachable:  # the network's doing: the refresh token is fine
                    raise NetworkError(decision.unreachable, decision.reason)
                raise AuthError(f"the token refresh failed: {decision.reason}")
            await self._sleep(decision.seconds)

    def _refused_if_client_error(self, answer: Answer) -> None:
        verdict = classify_status(answer.status)
        if verdict not in (HttpClass.CLIENT, HttpClass.AUTH, HttpClass.FORBIDDEN):
            return
        message, _ = error_details(parse_json(answer.raw), answer.raw)
        _event(logging.ERROR, "auth.refresh_failed", status=answer.status)
        raise AuthError(
            f"the token refresh was refused ({answer.status}: {self.scrub(message)}) — "
            "get a new refresh token and put it in the token file"
        )

    async def _store(self, body: Any) -> None:
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError("the token refresh answer has no access_token")
        add_secret(token)  # before anything could log it
        self._token = token
        self._stats.refreshes += 1
        expires_in = body.get("expires_in")
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            lifetime = float(expires_in)
            margin = self._settings.token_refresh_margin
            self._refresh_due = self._clock() + max(lifetime - margin, lifetime / 2)
        else:
            self._refresh_due = None
        rotated = body.get("refresh_token")
        changed = isinstance(rotated, str) and bool(rotated) and rotated != self._refresh_token
        _event(logging.INFO, "auth.refresh", expires_in=expires_in, rotated=changed)
        if changed:
            assert isinstance(rotated, str)
            add_secret(rotated)
            self._refresh_token = rotated
            await self._save()

    async def _save(self) -> None:
        """Write the rotated refresh token back, or stop the run: the one it replaced is retired,
        so a run that went on would leave the next run without a working refresh token."""
        path = self._credentials.token_file
        if path is None or self._save_file is None:
            _event(logging.ERROR, "auth.token_file_not_saved", reason="no token file")
            raise AuthError(
                "the API rotated the refresh token and there is no token file to keep it; "
                "the old one is retired — put the refresh credentials in a token file "
                "(WEBEX_BULK_TOKEN_FILE) with a new refresh token"
            )
        updates = {"refresh_token": self._refresh_token or ""}
        save = self._save_file
        try:
            await asyncio.to_thread(lambda: save(path, merged_token_file(path, updates)))
        except (OSError, ValueError, StorageError) as exc:
            reason = getattr(exc, "cause", None) or getattr(exc, "strerror", None) or str(exc)
            _event(logging.ERROR, "auth.token_file_not_saved", path=str(path), reason=reason)
            raise AuthError(
                f"the API rotated the refresh token and it could not be saved to {path} "
                f"({reason}); the old one is retired — make the token file and its folder "
                "writable, put a new refresh token in it and run again"
            ) from None
        _event(logging.INFO, "auth.token_file_saved", path=str(path))
