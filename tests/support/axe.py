"""axe-core (from npm) in Chromium: the WCAG 2.0/2.1 A and AA rules run on a page.

axe is added to each page of a context as an init script, which the page's
Content-Security-Policy does not govern, so pages are checked as they are served.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[2] / "static" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => `${v.id} (${v.impact}): ${v.help}\\n    ` +
      v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' -- ' +
          (n.failureSummary || '').replace(/\\s+/g, ' ')).join('\\n    '));
}"""


def context(browser: Any, language: str = "en", phone: bool = False) -> Any:
    """A browser context whose pages can be checked, asking for `language`."""
    # Not the journeys' watched browser (tests/support/axe_watch.py): these pages are
    # checked by the test that opens them.
    made = getattr(browser, "unwatched", browser).new_context(
        locale="ar-SA" if language == "ar" else "en-GB", **(PHONE if phone else DESKTOP))
    made.add_init_script(path=str(AXE))
    return made


def violations(page: Any) -> list[str]:
    """What axe finds wrong on the page as it is now (WCAG 2.0/2.1 A and AA)."""
    return list(page.evaluate(_RUN, TAGS))


def overflow(page: Any) -> int:
    """How many pixels the page is wider than the screen (0: nothing scrolls sideways)."""
    return int(page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def too_wide(page: Any) -> list[str]:
    """The outermost elements that reach past the screen's edge (for messages)."""
    return list(page.evaluate("""() => {
      const width = document.documentElement.clientWidth, found = [];
      for (const el of document.body.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        if ((box.right > width + 1 || box.left < -1) && !found.some(f => f.contains(el))
            && !(el.parentElement && el.parentElement.closest('.table-responsive'))) found.push(el);
      }
      return found.slice(0, 4).map(el => el.tagName.toLowerCase() +
          (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined ?
          '.' + String(el.className).trim().split(/\\s+/).join('.') : '') +
          ` (${Math.round(el.getBoundingClientRect().width)}px)`);
    }"""))
