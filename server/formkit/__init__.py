"""JSON Schema forms as accessible HTML, and submissions back as typed values."""

from .check import unsupported
from .fields import declared, submit_options
from .parse import parse_submission
from .render import render_fields

__all__ = ["declared", "parse_submission", "render_fields", "submit_options", "unsupported"]
