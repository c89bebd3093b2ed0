"""A real OpenID Connect provider on loopback (node-oidc-provider), and signing in through it.

`identity_provider(redirect_uri, accounts)` starts tests/support/oidc_provider.mjs under
node and stops it when the block ends; the accounts file can be rewritten meanwhile
(`provider.set_accounts`), which is how a test changes someone's groups at the provider.
`provider_login` walks the provider's own login and consent pages with plain HTTP, as a
browser would, and gives back where the provider sends the person.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from .wait import stop_process

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "static" / "node_modules" / "oidc-provider" / "lib" / "index.js"
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID = "plaint"
CLIENT_SECRET = "plaint-test-secret-" + "x" * 24
STARTUP_SECONDS = 30
_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*method="post"', re.IGNORECASE)


@dataclass
class Provider:
    """A running provider: its issuer URL and the file its accounts are read from."""

    issuer: str
    accounts_file: Path

    def set_accounts(self, accounts: dict[str, dict[str, Any]]) -> None:
        """Replace the provider's accounts (read again at every look-up)."""
        self.accounts_file.write_text(json.dumps(accounts))

    def settings(self, **more: Any) -> dict[str, Any]:
        """The Plaint settings that use this provider."""
        return {"PLAINT_OIDC_ISSUER": self.issuer, "PLAINT_OIDC_CLIENT_ID": CLIENT_ID,
                "PLAINT_OIDC_CLIENT_SECRET": CLIENT_SECRET,
                "PLAINT_OIDC_SCOPES": "openid profile email groups",
                "PLAINT_OIDC_LABEL": "Test Directory", **more}


def node() -> str:
    """The node binary, or skip when node or oidc-provider is missing."""
    found = shutil.which("node")
    if found is None or not MODULE.exists():
        if os.environ.get("PLAINT_REQUIRE_OIDC") == "1":
            pytest.fail("node and static/node_modules/oidc-provider are required")
        pytest.skip("node or oidc-provider (npm) not installed; single sign-on tests skipped")
    return found


@contextmanager
def identity_provider(redirect_uris: list[str],
                      accounts: dict[str, dict[str, Any]]) -> Iterator[Provider]:
    """Run the provider on 127.0.0.1 with these accounts until the block ends."""
    binary = node()
    with tempfile.TemporaryDirectory(prefix="plaint-oidc-") as folder:
        provider = Provider("", Path(folder) / "accounts.json")
        provider.set_accounts(accounts)
        env = {**os.environ, "OIDC_PROVIDER_MODULE": MODULE.as_uri(),
               "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
               "OIDC_REDIRECT_URIS": " ".join(redirect_uris),
               "OIDC_ACCOUNTS": str(provider.accounts_file), "NODE_ENV": "test"}
        process = subprocess.Popen([binary, str(SCRIPT)], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
        try:
            provider.issuer = _wait_for_issuer(process)
            yield provider
        finally:
            stop_process(process)


def _wait_for_issuer(process: subprocess.Popen[str]) -> str:
    """The issuer the provider prints once it listens."""
    assert process.stdout is not None
    ready, _unused, _none = select.select([process.stdout], [], [], STARTUP_SECONDS)
    line = process.stdout.readline() if ready else ""
    if not line.startswith("listening "):
        raise RuntimeError(f"the test OpenID Connect provider did not start: {line!r}")
    return line.split(" ", 1)[1].strip()


def provider_login(authorize_url: str, login: str, *, consent: bool = True,
                   session: requests.Session | None = None) -> str:
    """Sign in at the provider as `login` (any password) and answer its consent page.

    Returns the URL the provider redirects back to (the app's callback with a code, or
    with an error when `consent` is False and the person cancels).
    """
    browser = session or requests.Session()
    url = authorize_url
    for _step in range(12):
        answer = browser.get(url, allow_redirects=False, timeout=10)
        if answer.is_redirect:
            url = urljoin(url, answer.headers["Location"])
            if not url.startswith(authorize_url.split("/auth", 1)[0]):
                return url  # back to the app
            continue
        page = answer.text
        action = _FORM.search(page)
        assert answer.status_code == 200 and action, page[:2000]
        if 'name="prompt" value="login"' in page:
            data = {"prompt": "login", "login": login, "password": "any"}
        elif not consent:
            abort = re.search(r'href="([^"]*/abort)"', page)
            assert abort, page[:2000]
            url = urljoin(url, abort.group(1))
            continue
        else:
            data = {"prompt": "consent"}
        sent = browser.post(urljoin(url, action.group(1)), data=data, allow_redirects=False,
                            timeout=10)
        assert sent.is_redirect, sent.text[:2000]
        url = urljoin(url, sent.headers["Location"])
    raise AssertionError("the provider never sent the person back")
