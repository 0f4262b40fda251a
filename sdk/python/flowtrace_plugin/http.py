"""Outgoing HTTP requests. Capability ``network``.

A plugin that declares ``network = { hosts = ["api.example.com"] }`` under
``[capabilities]`` in flowtrace.toml calls those hosts with :func:`request` (or :func:`get`,
:func:`post`). The host checks every request against the list, redirects included (they are
not followed: a ``3xx`` comes back as the response), and refuses the others with
:class:`Denied`. Importing this module without ``network`` fails the build::

    from flowtrace_plugin import config, http

    def score(text: str) -> float:
        response = http.post(
            "https://api.example.com/v1/score",
            json={"text": text},
            headers={"authorization": f"Bearer {config.require('api-key', str)}"},
            timeout=10,
        )
        return float(response.raise_for_status().json()["score"])

Requests block until the response has arrived (a plugin call is synchronous); the
plugin's ``[limits] timeout`` bounds the whole call. In ``cargo flowtrace test`` the
fixture's ``[[http]]`` entries answer instead of the network.
"""

from __future__ import annotations

import json as _json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import _host
from .errors import Unavailable

_host.check_capability("http", "network", "outgoing_handler")

__all__ = [
    "Denied",
    "HttpError",
    "Response",
    "StatusError",
    "delete",
    "get",
    "post",
    "put",
    "request",
]

_CHUNK = 4096
"""Most bytes written to a body stream at once (what ``blocking-write-and-flush`` takes)."""

_READ = 64 * 1024


class HttpError(Unavailable):
    """A request that got no response: refused, unreachable, timed out, malformed.

    It is an :class:`~flowtrace_plugin.errors.Unavailable`, so a plugin that lets it
    propagate reports ``unavailable`` with this message.
    """

    def __init__(self, message: str, *, url: str, code: str | None = None) -> None:
        super().__init__(message)
        self.url: str = url
        """The URL requested."""
        self.code: str | None = code
        """The ``wasi:http`` error code, e.g. ``HttpRequestDenied``, when the host gave one."""


class Denied(HttpError):
    """The host refused the request: its host is not in the manifest's ``network`` list."""


class StatusError(HttpError):
    """Raised by :meth:`Response.raise_for_status` for a ``4xx`` or ``5xx`` response."""

    def __init__(self, response: Response) -> None:
        super().__init__(
            f"{response.url} answered {response.status}", url=response.url, code=None
        )
        self.response: Response = response
        """The response."""


@dataclass
class Response:
    """A complete response: status, headers and the whole body.

    >>> r = Response(200, {"content-type": "application/json"}, b'{"ok": true}', "https://a.example/x")
    >>> r.ok, r.json(), r.header("Content-Type")
    (True, {'ok': True}, 'application/json')
    """

    status: int
    """The status code."""
    headers: dict[str, str] = field(default_factory=dict)
    """Header names in lower case; a repeated header's values joined with ``, ``."""
    body: bytes = b""
    """The body."""
    url: str = ""
    """The URL requested."""

    @property
    def ok(self) -> bool:
        """Whether the status is below 400."""
        return self.status < 400

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (any case), if present."""
        return self.headers.get(name.lower())

    def text(self, encoding: str = "utf-8") -> str:
        """The body decoded (invalid bytes replaced)."""
        return self.body.decode(encoding, errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; :class:`~flowtrace_plugin.errors.InvalidInput` when it
        is not."""
        from .errors import InvalidInput

        try:
            return _json.loads(self.body)
        except ValueError as err:
            raise InvalidInput(f"{self.url} did not answer JSON: {err}") from None

    def raise_for_status(self) -> Response:
        """This response, or :class:`StatusError` when its status is 400 or above.

        >>> Response(204, url="https://a.example").raise_for_status().status
        204
        """
        if self.status >= 400:
            raise StatusError(self)
        return self


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    json: Any = None,
    timeout: float | None = None,
) -> Response:
    """Send ``method url`` and wait for the whole response.

    ``json`` sends that value as the body with ``content-type: application/json``;
    ``body`` sends bytes (a ``str`` is UTF-8 encoded). ``timeout`` (seconds) bounds the
    connection and the wait for the first byte. Raises :class:`Denied` when the host
    refuses the URL and :class:`HttpError` when no response came; a ``4xx``/``5xx`` is a
    response (see :meth:`Response.raise_for_status`).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise HttpError(f"not an http(s) URL: {url!r}", url=url)
    sent_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if json is not None:
        if body is not None:
            raise ValueError("pass `body` or `json`, not both")
        body = _json.dumps(json).encode()
        sent_headers.setdefault("content-type", "application/json")
    if isinstance(body, str):
        body = body.encode()

    types = _host.wit("wasi_http_types")
    handler = _host.wit("outgoing_handler")
    outgoing = types.OutgoingRequest(
        types.Fields.from_list([(k, v.encode()) for k, v in sent_headers.items()])
    )
    outgoing.set_method(_method(types, method))
    outgoing.set_scheme(types.Scheme_Https() if scheme == "https" else types.Scheme_Http())
    outgoing.set_authority(parts.netloc)
    path = parts.path or "/"
    outgoing.set_path_with_query(f"{path}?{parts.query}" if parts.query else path)
    outgoing_body = outgoing.body()

    options = None
    if timeout is not None:
        options = types.RequestOptions()
        nanos = max(0, int(timeout * 1e9))
        for setter in (options.set_connect_timeout, options.set_first_byte_timeout):
            try:
                setter(nanos)
            except Exception:  # the host may not support a timeout: the call's limit holds
                pass

    try:
        future = handler.handle(outgoing, options)
    except Exception as err:
        outgoing_body.__exit__(None, None, None)
        raise _error(err, url) from None
    Ok = _host.wit("componentize_py_types").Ok
    with future:
        # A request the host refuses fails at once: say so without writing its body (the
        # body's stream is gone then, and componentize-py 0.25.1 traps on the error a
        # write to it returns).
        with future.subscribe() as pollable:
            refused = pollable.ready()
        result = future.get() if refused else None
        if result is not None and not (isinstance(result, Ok) and isinstance(result.value, Ok)):
            outgoing_body.__exit__(None, None, None)
        else:
            if body:
                with outgoing_body.write() as stream:
                    for start in range(0, len(body), _CHUNK):
                        stream.blocking_write_and_flush(body[start : start + _CHUNK])
            types.OutgoingBody.finish(outgoing_body, None)
            while (result := future.get()) is None:
                with future.subscribe() as pollable:
                    pollable.block()
    if not isinstance(result, Ok):
        raise HttpError(f"the response to {url} was already taken", url=url)
    inner = result.value
    if not isinstance(inner, Ok):
        raise _error(inner, url)
    with inner.value as response:
        status = response.status()
        received: dict[str, str] = {}
        with response.headers() as fields:
            for name, value in fields.entries():
                text = value.decode("latin-1")
                name = name.lower()
                received[name] = f"{received[name]}, {text}" if name in received else text
        data = _read_body(response.consume(), url)
    return Response(status, received, data, url)


def _read_body(incoming: Any, url: str) -> bytes:
    streams = _host.wit("streams")
    types = _host.wit("wasi_http_types")
    chunks: list[bytes] = []
    with incoming.stream() as stream:
        while True:
            try:
                chunks.append(stream.blocking_read(_READ))
            except Exception as err:
                if isinstance(getattr(err, "value", None), streams.StreamError_Closed):
                    break
                raise HttpError(f"reading the response body of {url} failed", url=url) from None
    types.IncomingBody.finish(incoming).__exit__(None, None, None)
    return b"".join(chunks)


def _method(types: Any, method: str) -> Any:
    known = {
        "GET": types.Method_Get,
        "HEAD": types.Method_Head,
        "POST": types.Method_Post,
        "PUT": types.Method_Put,
        "DELETE": types.Method_Delete,
        "OPTIONS": types.Method_Options,
        "PATCH": types.Method_Patch,
    }
    upper = method.upper()
    return known[upper]() if upper in known else types.Method_Other(method)


def _error(err: Any, url: str) -> HttpError:
    """The exception for a ``wasi:http`` error code (raised as ``Err(code)`` or given as
    one)."""
    code = getattr(err, "value", err)
    name = type(code).__name__.removeprefix("ErrorCode_")
    host = urlsplit(url).hostname or url
    if name == "HttpRequestDenied":
        return Denied(
            f"the host refused the request to {url}: `{host}` is not in "
            "`network = { hosts = [...] }` under `[capabilities]` in flowtrace.toml",
            url=url,
            code=name,
        )
    detail = getattr(code, "value", None)
    suffix = f" ({detail})" if detail not in (None, "") else ""
    return HttpError(f"the request to {url} failed: {name}{suffix}", url=url, code=name)


def get(url: str, **kwargs: Any) -> Response:
    """``request("GET", url, ...)``."""
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> Response:
    """``request("POST", url, ...)``."""
    return request("POST", url, **kwargs)


def put(url: str, **kwargs: Any) -> Response:
    """``request("PUT", url, ...)``."""
    return request("PUT", url, **kwargs)


def delete(url: str, **kwargs: Any) -> Response:
    """``request("DELETE", url, ...)``."""
    return request("DELETE", url, **kwargs)
