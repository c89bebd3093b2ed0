"""Who may open what: sign-in and role checks for views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask_login import current_user, login_required

from ..errors import Forbidden
from ..services.actors import Actor

F = TypeVar("F", bound=Callable[..., Any])

CASE_WRITERS = ("handler", "supervisor", "complaints_manager")
CASE_READERS = (*CASE_WRITERS, "auditor")


def roles_required(*roles: str) -> Callable[[F], F]:
    """Let in signed-in users holding any of the roles; others get 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                raise Forbidden("Your roles do not give access to this page.")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def actor() -> Actor:
    """The signed-in user as the services see them."""
    return Actor.for_user(current_user)
