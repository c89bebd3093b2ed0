"""axe-core on every page of every browser journey (a pytest plugin).

The ``browser`` fixture hands tests a :class:`WatchedBrowser`: each page a journey opens has
axe-core, which checks the page once it has loaded and again after each htmx update, as the
test sees it. When the test ends, every page it opened is opened once more, with the same
signed-in session, in the language and on the screen it was not seen in (Arabic on a phone,
for a journey in English on a desktop), and checked there too, with its width; a page the
journey left before axe was done is checked as the journey saw it too. A test fails on any
violation, naming the page, the language, the screen and the rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from . import axe

# Runs in every page of a watched context, after axe.min.js: checks the page when it has
# loaded and after each htmx swap, one check at a time, and reports through a binding.
_WATCH = """(() => {
  if (window.top !== window || !/^https?:$/.test(location.protocol)) return;
  let chain = Promise.resolve();
  const run = async () => {
    try {
      const result = await axe.run(document, {runOnly: {type: 'tag', values: __TAGS__}});
      await window.__plaintAxe(location.pathname + location.search, document.documentElement.lang,
        result.violations.map(v => `${v.id} (${v.impact}): ${v.help}\\n    ` +
          v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' -- ' +
            (n.failureSummary || '').replace(/\\s+/g, ' ')).join('\\n    ')));
    } catch (err) {
      /* the page is going away: what it showed last was checked, or went with it */
    }
  };
  const check = () => (chain = chain.then(run));
  window.__plaintAxeIdle = () =>
    Promise.race([check(), new Promise(done => setTimeout(done, 15000))]);
  if (document.readyState === 'complete') check(); else window.addEventListener('load', check);
  document.addEventListener('htmx:afterSettle', check);
})();""".replace("__TAGS__", json.dumps(axe.TAGS))

_IDLE = "() => window.__plaintAxeIdle ? window.__plaintAxeIdle() : null"
_TOKEN = re.compile(r"/[0-9a-f]{8}-[0-9a-f-]{27}|/[A-Za-z0-9_-]{20,}|/[A-Z]+-\d{4,}-\d+|/\d+")


@dataclass
class Seen:
    """The pages one test's journey passed through, and what axe found on them."""

    # page kind -> its last address and the context (the signed-in session) it was seen in
    visited: dict[str, tuple[str, Any]] = field(default_factory=dict)
    checked: dict[str, str] = field(default_factory=dict)  # page kind -> language axe saw
    found: list[str] = field(default_factory=list)

    def visit(self, url: str, context: Any) -> None:
        """Keep a page the journey opened, to see it again when the test ends."""
        parts = urlsplit(url)
        if parts.scheme in ("http", "https"):
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            self.visited[kind(path)] = (path, context)

    def report(self, path: str, language: str, violations: list[str]) -> None:
        """Keep what axe found on a page as the journey saw it."""
        self.checked[kind(path)] = language or "en"
        for problem in violations:
            if (line := f"{path} ({language or '?'}): {problem}") not in self.found:
                self.found.append(line)


def kind(path: str) -> str:
    """A page's address with its case, task and token parts left out: /cases/*/tasks/*."""
    return _TOKEN.sub("/*", path.split("?")[0])


class WatchedBrowser:
    """Chromium whose contexts check every page with axe; otherwise the browser itself."""

    def __init__(self, browser: Any) -> None:
        self.unwatched = browser
        self.seen = Seen()
        self.contexts: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unwatched, name)

    def new_context(self, **options: Any) -> Any:
        """A context whose pages are checked (unless it runs without JavaScript)."""
        context = self.unwatched.new_context(**options)
        if options.get("java_script_enabled", True):
            self.contexts.append(context)
            watch(context, self)
        return context

    def new_page(self, **options: Any) -> Any:
        """A page in a context of its own, checked."""
        return self.new_context(**options).new_page()

    def settle(self) -> None:
        """Wait for the checks still running in every open page."""
        for context in self.contexts:
            for page in context.pages:
                try:
                    page.evaluate(_IDLE)
                except Exception:  # a page closed or gone has nothing left to check
                    pass


def watch(context: Any, browser: WatchedBrowser) -> None:
    """Check every page of `context` as it loads and changes; note every page it opens."""
    context.add_init_script(path=str(axe.AXE))
    # Handlers only note what happened: Playwright's calls cannot run inside them safely.
    context.expose_binding("__plaintAxe", lambda source, path, language, violations:
                           browser.seen.report(path, language, violations))
    context.add_init_script(script=_WATCH)
    context.on("page", lambda page: page.on(
        "framenavigated", lambda frame: frame.parent_frame is None
        and browser.seen.visit(frame.url, context)))


def other_screens(browser: WatchedBrowser, base: str) -> list[str]:
    """Each page the journey saw, opened again in the other language on the other screen
    (and as the journey saw it, if it moved on before axe was done)."""
    found: list[str] = []
    contexts: dict[tuple[str, bool], Any] = {}
    for name, (path, journey) in sorted(browser.seen.visited.items()):
        screens = [("en", False) if browser.seen.checked.get(name) == "ar" else ("ar", True)]
        if name not in browser.seen.checked:
            screens.append(("en", False))
        for language, phone in screens:
            if (language, phone) not in contexts:
                contexts[(language, phone)] = axe.context(browser.unwatched, language, phone)
            found += _check(contexts[(language, phone)], base, path, journey, language, phone)
    for context in contexts.values():
        context.close()
    return found


def _check(context: Any, base: str, path: str, journey: Any, language: str,
           phone: bool) -> list[str]:
    """What axe finds on `path` opened with the journey's session in `language`."""
    context.clear_cookies()
    context.add_cookies([c for c in _cookies(journey) if c["name"] != "plaint_language"] + [
        {"name": "plaint_language", "value": language, "url": base}])
    page = context.new_page()
    try:
        answer = page.goto(base + path)
        if answer is None or not answer.ok or answer.request.redirected_from is not None:
            return []  # the journey has moved on: the page is no longer there to see
        page.wait_for_load_state("networkidle")
        screen = f"{language}, {'phone' if phone else 'desktop'}"
        found = [f"{path} ({screen}): {problem}" for problem in axe.violations(page)]
        if phone and (wider := axe.overflow(page)) > 0:
            found.append(f"{path} ({screen}): {wider}px wider than the screen: "
                         + ", ".join(axe.too_wide(page)))
        return found
    finally:
        page.close()


def _cookies(context: Any) -> list[dict[str, Any]]:
    """A context's cookies, or none when it is closed."""
    try:
        return list(context.cookies())
    except Exception:  # a closed context keeps nothing
        return []


@pytest.fixture(autouse=True)
def axe_on_every_page(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a browser test whose journey passes a page axe finds fault with."""
    if "browser" not in request.fixturenames or request.node.get_closest_marker("axe_own"):
        yield
        return
    browser = request.getfixturevalue("browser")
    base = request.getfixturevalue("live_server")
    browser.seen, browser.contexts = Seen(), []
    yield
    browser.settle()
    found = browser.seen.found + other_screens(browser, base)
    assert not found, "axe on the pages of this journey:\n" + "\n".join(found)
