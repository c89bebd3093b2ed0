"""Service task operators: SpiffArena connector proxies over HTTP, and Plaint's own two.

A connector proxy speaks SpiffArena's protocol: `GET {proxy}/v1/commands` lists the
operators it offers (`[{"id": "http/GetRequestV2", "parameters": [...]}, ...]`), and
`POST {proxy}/v1/do/{operator}` with the parameters as a JSON object makes a call. The
answer is JSON: `{"command_response": {"body": ..., "mimetype": ..., "http_status": ...},
"command_response_version": 2, "error": null}` (older proxies answer the body itself), and
`"error": {"error_code": ..., "message": ...}` when the command failed.

Plaint serves two operators itself, without any proxy: `plaint/HttpRequest` (an HTTP
request to a host of PLAINT_HTTP_ALLOWED_HOSTS, see http_request.py) and `plaint/SendEmail`
(an e-mail through the outbox, made by services/service_calls.py in the step's transaction).
Nothing here touches the database: calls are made by the worker outside any transaction.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from ..engine import DeployIssue
from . import http_request
from .http_request import CallFailed

HTTP_OPERATOR = "plaint/HttpRequest"
EMAIL_OPERATOR = "plaint/SendEmail"
OWN_OPERATORS = (HTTP_OPERATOR, EMAIL_OPERATOR)
API_KEY_HEADER = "Spiff-Connector-Proxy-Api-Key"  # what SpiffArena's proxies check
COMMANDS_TTL = 300.0  # seconds a proxy's command list is trusted when choosing the proxy
MAX_PROXY_ANSWER = 4 * 1024 * 1024
_cache: dict[str, tuple[float, set[str]]] = {}
_cache_lock = threading.Lock()


class ProxyUnreachable(Exception):
    """A connector proxy did not give its list of commands."""

    def __init__(self, proxy: str, reason: str) -> None:
        super().__init__(f"{proxy}: {reason}")
        self.proxy = proxy
        self.reason = reason


def proxies() -> tuple[str, ...]:
    """The connector proxies configured (PLAINT_CONNECTOR_PROXIES), base URLs."""
    return tuple(current_app.config.get("PLAINT_CONNECTOR_PROXIES") or ())


def _headers() -> dict[str, str]:
    headers = {"User-Agent": "plaint", "Accept": "application/json"}
    key = current_app.config.get("PLAINT_CONNECTOR_PROXY_API_KEY")
    if key:
        headers[API_KEY_HEADER] = key
    return headers


def commands(proxy: str, timeout: float) -> set[str]:
    """The operator ids a proxy offers now (GET /v1/commands); ProxyUnreachable if it cannot."""
    try:
        status, _type, body = http_request.fetch("GET", f"{proxy}/v1/commands", None, _headers(),
                                                 timeout, MAX_PROXY_ANSWER)
    except CallFailed as exc:
        raise ProxyUnreachable(proxy, str(exc)) from None
    if status != 200:
        raise ProxyUnreachable(proxy, _("it answered HTTP %(status)s", status=status))
    try:
        listed = json.loads(body)
        ids = {str(item["id"]) for item in listed}
    except (ValueError, TypeError, KeyError):
        raise ProxyUnreachable(proxy, _("its answer is not a list of commands")) from None
    with _cache_lock:
        _cache[proxy] = (time.monotonic(), ids)
    return ids


def operator_problems(operators: list[tuple[str, str, str | None]],
                      fresh: bool = True) -> list[DeployIssue]:
    """Why service tasks of a bundle cannot run: operators nobody offers, proxies that are down.

    `operators` are (operator, element id, file). Each configured proxy is asked for its
    commands with PLAINT_SERVICE_DEPLOY_TIMEOUT (a deploy always asks; the studio's checks,
    `fresh=False`, reuse a list fetched in the last COMMANDS_TTL seconds). Plaint's own
    operators need no proxy, so a bundle using only those deploys without any network call.
    """
    wanted = [entry for entry in operators if entry[0] not in OWN_OPERATORS]
    if not wanted:
        return []
    timeout = current_app.config["PLAINT_SERVICE_DEPLOY_TIMEOUT"]
    offered: set[str] = set()
    issues: list[DeployIssue] = []
    for proxy in proxies():
        try:
            offered |= _listed(proxy, timeout, fresh)
        except ProxyUnreachable as exc:
            issues.append(DeployIssue("(bundle)", None, None, _(
                "the connector proxy %(proxy)s could not be asked for its operators "
                "(%(error)s): the service tasks cannot be checked; start the proxy or fix "
                "PLAINT_CONNECTOR_PROXIES, then deploy again", proxy=exc.proxy,
                error=exc.reason)))
    if issues:
        return issues
    configured = ", ".join(proxies()) or _("none is configured")
    for operator, element, file in wanted:
        if operator not in offered:
            issues.append(DeployIssue(file or "(bundle)", element, None, _(
                "the service task operator '%(operator)s' is offered by no connector proxy "
                "(PLAINT_CONNECTOR_PROXIES: %(proxies)s) nor by Plaint itself (%(own)s): "
                "use one of those, or add a proxy that offers it",
                operator=operator, proxies=configured, own=", ".join(OWN_OPERATORS))))
    return issues


def _listed(proxy: str, timeout: float, fresh: bool) -> set[str]:
    """A proxy's operators: asked now, or (not `fresh`) as listed in the last COMMANDS_TTL."""
    with _cache_lock:
        cached = _cache.get(proxy)
    if not fresh and cached and time.monotonic() - cached[0] < COMMANDS_TTL:
        return cached[1]
    return commands(proxy, timeout)


def _proxy_for(operator: str, timeout: float) -> str:
    """The proxy to call for an operator: the only one, else one whose commands list it."""
    configured = proxies()
    if not configured:
        raise CallFailed(_("no connector proxy is configured (PLAINT_CONNECTOR_PROXIES) for "
                           "the operator '%(operator)s'", operator=operator), transient=False)
    if len(configured) == 1:
        return configured[0]
    for proxy in configured:
        try:
            ids = _listed(proxy, timeout, fresh=False)
        except ProxyUnreachable:
            continue
        if operator in ids:
            return proxy
    raise CallFailed(_("no connector proxy offers the operator '%(operator)s' now",
                       operator=operator), transient=True)


def call_proxy(operator: str, params: dict[str, Any], context: dict[str, Any]) -> Any:
    """Call an operator on its connector proxy; return what goes into resultVariable.

    `context` adds SpiffArena's spiff__ parameters that make sense here (the task id and
    the case). Raises CallFailed, transient when trying again later may help.
    """
    timeout = current_app.config["PLAINT_SERVICE_TIMEOUT"]
    proxy = _proxy_for(operator, timeout)
    body = json.dumps({**params, **context}, default=str).encode()
    status, _type, text = http_request.fetch(
        "POST", f"{proxy}/v1/do/{operator}", body,
        {**_headers(), "Content-Type": "application/json"}, timeout, MAX_PROXY_ANSWER)
    return read_answer(operator, status, text)


def read_answer(operator: str, status: int, text: bytes) -> Any:
    """The result of a proxy's answer, or CallFailed saying what went wrong."""
    try:
        answer = json.loads(text or b"{}")
    except ValueError:
        answer = None
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict) and error.get("error_code"):
        raise CallFailed(_("the operator '%(operator)s' failed: %(code)s: %(message)s",
                           operator=operator, code=error["error_code"],
                           message=str(error.get("message", ""))[:1000]),
                         transient=status >= 500 or status == 429)
    if status >= 300:
        raise CallFailed(_("the connector proxy answered HTTP %(status)s for '%(operator)s'",
                           status=status, operator=operator),
                         transient=status >= 500 or status == 429)
    if not isinstance(answer, dict | list):
        raise CallFailed(_("the connector proxy's answer for '%(operator)s' is not JSON",
                           operator=operator), transient=False)
    if isinstance(answer, dict) and (answer.get("command_response_version") or 0) > 1 and \
            isinstance(answer.get("command_response"), dict):
        response = dict(answer["command_response"])
        upstream = response.get("http_status")
        if isinstance(upstream, int) and upstream >= 300:
            raise CallFailed(_("the service behind '%(operator)s' answered HTTP %(status)s",
                               operator=operator, status=upstream),
                             transient=upstream >= 500 or upstream == 429)
        response["operator_identifier"] = operator
        return response
    return answer
