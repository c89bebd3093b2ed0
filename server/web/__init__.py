"""Blueprints, one per area; views stay thin and call services."""

from __future__ import annotations

from flask import Flask

from ..extensions import login_manager
from ..services import choice_titles, labels
from . import signed_in


@login_manager.user_loader
def load_user(user_id: str) -> signed_in.SignedIn | None:
    """The signed-in user of a session or remember cookie, if that sign-in still holds.

    The cookie names the account and the session epoch it signed in under (User.get_id);
    sign-out, a new password, a role taken away or switching the account off raise the
    epoch, and so end every session of the account, a copied cookie's included. A bare
    id (a cookie from before epochs) is refused: that person signs in once more.
    """
    account, _, epoch = user_id.partition(":")
    if not account.isdigit() or not epoch.isdigit():
        return None
    # One Core query, the roles joined: this runs on every request.
    return signed_in.load(int(account), int(epoch))


def init_app(app: Flask) -> None:
    """Register every blueprint: the one place that lists them."""
    from . import (
        access_log,
        actions,
        admin,
        admin_api,
        admin_codes,
        admin_outbox,
        admin_security,
        admin_sso,
        admin_teams,
        admin_time,
        admin_webhooks,
        api,
        audit_samples,
        auth,
        cases,
        data_requests,
        inbox,
        incidents,
        language,
        mailbox,
        need_to_know,
        pack_schedule,
        portal,
        public,
        related,
        reports,
        retention,
        returns,
        session_rules,
        sso,
        studio,
        studio_migrate,
        studio_replay,
        tasks,
        timefmt,
    )

    timefmt.init_app(app)
    session_rules.init_app(app)
    language.init_app(app)
    related.init_app(app)
    access_log.init_app(app)
    retention.init_app(app)
    need_to_know.init_app(app)
    app.jinja_env.globals["choice_title"] = choice_titles.title
    app.jinja_env.globals["code_label"] = labels.code
    app.jinja_env.globals["role_label"] = labels.role
    app.jinja_env.globals["role_description"] = labels.role_description

    for module in (public, portal, auth, inbox, tasks, cases, admin, admin_time, studio,
                   admin_outbox, incidents, reports, returns, admin_codes, audit_samples,
                   pack_schedule, language, actions, admin_webhooks, mailbox, admin_api,
                   admin_security, sso, admin_sso, access_log,
                   retention, admin_teams,
                   data_requests, studio_migrate, studio_replay):
        app.register_blueprint(module.bp)
    api.init_app(app)
    sso.init_app(app)
