"""A browser over real HTTP (requests): pages, their CSRF tokens, forms sent back, redirects.

For tests that talk to a server in another process (the production recipe, the soak): the
same requests a person's browser makes, with the session cookie it keeps.
"""

from __future__ import annotations

import re

import requests

from .data import PASSWORD, PUBLIC_FORM
from .web import form_token, reference_on

_HIDDEN = re.compile(r'<input type="hidden" name="(case_version)" value="([^"]*)"')
_TRACKING = re.compile(r'id="tracking-link">([^<]+)<')
TIMEOUT = 30.0

# What a handler fills in at each step of the reference process, as form fields (text).
STEPS = [
    ("acknowledge", {"acknowledgement_channel": "email",
                     "acknowledgement_message": "We have your complaint."}),
    ("assess", {"in_scope": "true", "category": "billing", "product": "other",
                "severity": "serious", "complexity": "simple", "vulnerable_customer": "false",
                "regulator_involved": "false", "immediate_action_needed": "false"}),
    ("investigate", {"findings": "The transfer was booked twice.",
                     "need_information": "false"}),
    ("respond", {"outcome": "upheld", "response": "We refunded the charge.",
                 "remedy_offered": "Refund"}),
]


class Browser:
    """One person's browser: a cookie jar, and pages opened and forms sent at `base`."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def get(self, path: str) -> requests.Response:
        """Open a page, following redirects as a browser does."""
        return self.http.get(self.base + path, timeout=TIMEOUT)

    def send(self, path: str, values: dict[str, str], page: str | None = None,
             ) -> requests.Response:
        """Open the form at `path` (or `page`) and send it with `values`; redirects not followed."""
        html = self.get(page or path).text
        data = {**dict(_HIDDEN.findall(html)), **values, "csrf_token": form_token(html)}
        return self.http.post(self.base + path, data=data, timeout=TIMEOUT,
                              allow_redirects=False)

    def follow(self, answer: requests.Response) -> requests.Response:
        """Open the page a redirect points to."""
        return self.http.get(requests.compat.urljoin(self.base, answer.headers["Location"]),
                             timeout=TIMEOUT)

    def file_complaint(self, **values: str) -> tuple[str, str]:
        """File a complaint on the public form: its reference and tracking link."""
        sent = self.send("/complaints/new", {**PUBLIC_FORM, **values})
        assert sent.status_code == 302, (sent.status_code, sent.text[:2000])
        done = self.follow(sent).text
        link = _TRACKING.search(done)
        assert link, "no tracking link on the confirmation page"
        return reference_on(done), link.group(1)

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        """Send the sign-in form; it must let the person in."""
        answer = self.send("/login", {"username": username, "password": password})
        assert answer.status_code == 302, (answer.status_code, answer.text[:2000])

    def task_path(self, reference: str) -> str | None:
        """The first ready task the case page links to, or None."""
        page = self.get(f"/cases/{reference}").text
        match = re.search(rf'href="(/cases/{re.escape(reference)}/tasks/[^"]+)"', page)
        return match.group(1) if match else None

    def work(self, path: str, values: dict[str, str]) -> requests.Response:
        """Open a task and send its form, as the handler does; the answer (302 when done)."""
        return self.send(path, values)
