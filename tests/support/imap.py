"""For the mailbox tests: a real Dovecot IMAP server on loopback, started by the test run.

What we learned running Dovecot 2.3 (Debian 12's dovecot-imapd) in tests:
- `dovecot -F -c FILE` runs the master in the foreground as a child process; terminating it
  (SIGTERM) stops its children too. `base_dir` (sockets, master.pid) and `state_dir` must
  point into the temp folder, and `instance_name` must differ from the system's, or it
  refuses to start while a system Dovecot runs ("already running").
- `ssl = no`, `disable_plaintext_auth = no` and `listen = 127.0.0.1` make a plain IMAP
  server for loopback only; the imaps listener is switched off with `port = 0`.
- passwd-file for both passdb and userdb, with `{PLAIN}` passwords and the user's uid, gid
  and home (maildir under the temp folder: `mail_location = maildir:~/Maildir`).
- As root: imap-login refuses to run as root ("This process must not be run as root"), so
  `default_login_user` must be a real unprivileged user (Debian's `dovenull`) and
  `default_internal_user` Debian's `dovecot`; the mail user's uid/gid are then `dovecot`'s,
  and the temp folder must belong to it. The `chroot` of imap-login and anvil is emptied so
  no chroot directory needs to exist.
- As a normal user: every one of those users is the current user, and `first_valid_uid`
  must be at or below the current uid. Both ways were checked: as root, and as `nobody`
  (runuser -u nobody -- dovecot -F -c ...).
- The temp folder must be reachable by the mail user: pytest's own (/tmp/pytest-of-root)
  is 0700, so the server gets a folder of its own from tempfile.mkdtemp.
- The log (log_path) is the place to look when a login fails; it is printed when the
  server does not come up.
- Messages are put in with IMAP APPEND, as a mail server's delivery would leave them; the
  APPENDUID answer gives UIDVALIDITY and the UID.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from .mail import free_port
from .wait import stop_process

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "complaints", "test-password"


class ImapServer:
    """A Dovecot server with one mailbox, and helpers to fill and look into it."""

    def __init__(self, folder: Path, port: int, process: subprocess.Popen[bytes]) -> None:
        self.folder = folder
        self.port = port
        self.process = process

    def settings(self, **more: Any) -> dict[str, Any]:
        """The app settings that read this mailbox (plain IMAP on loopback)."""
        return {"PLAINT_MAILBOX_HOST": "127.0.0.1", "PLAINT_MAILBOX_PORT": self.port,
                "PLAINT_MAILBOX_TLS": "plain", "PLAINT_MAILBOX_USER": USER,
                "PLAINT_MAILBOX_PASSWORD": PASSWORD, "PLAINT_MAILBOX_TIMEOUT": 10.0, **more}

    def client(self) -> IMAPClient:
        """A logged-in IMAP connection of the test's own."""
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message in the mailbox, as delivery would."""
        with self.client() as client:
            client.append(folder, raw)

    def flags(self, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        """The messages of a folder and their flags, by UID."""
        with self.client() as client:
            if not client.folder_exists(folder):
                return {}
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            return {uid: tuple(data[b"FLAGS"]) for uid, data in
                    client.fetch(uids, ["FLAGS"]).items()} if uids else {}

    def clear(self) -> None:
        """Empty the mailbox for the next test."""
        with self.client() as client:
            for folder in [f[2] for f in client.list_folders()]:
                client.select_folder(folder)
                uids = client.search(["ALL"])
                if uids:
                    client.delete_messages(uids)
                    client.expunge()
                if folder != "INBOX":
                    client.close_folder()
                    client.delete_folder(folder)

    def stop(self) -> None:
        """Stop the server and wait for it."""
        stop_process(self.process)


def _accounts(folder: Path) -> dict[str, Any]:
    """The users Dovecot runs as, and owns the mail as (see the notes at the top)."""
    if os.geteuid() == 0:
        mail = pwd.getpwnam("dovecot")
        shutil.chown(folder, mail.pw_uid, mail.pw_gid)
        return {"internal": "dovecot", "internal_group": grp.getgrgid(mail.pw_gid).gr_name,
                "login": "dovenull", "uid": mail.pw_uid, "gid": mail.pw_gid}
    me = pwd.getpwuid(os.getuid())
    return {"internal": me.pw_name, "internal_group": grp.getgrgid(os.getgid()).gr_name,
            "login": me.pw_name, "uid": os.getuid(), "gid": os.getgid()}


def write_config(folder: Path, port: int) -> Path:
    """A dovecot.conf for one passwd-file user with maildir storage under `folder`."""
    who = _accounts(folder)
    home = folder / "home"
    (folder / "passwd").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{who['uid']}:{who['gid']}::{home}\n")
    config = folder / "dovecot.conf"
    config.write_text(f"""
base_dir = {folder}/run
state_dir = {folder}/state
instance_name = plaint-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = {min(who['uid'], 500)}
first_valid_gid = 0
log_path = {folder}/dovecot.log
info_log_path = {folder}/dovecot.log
mail_location = maildir:~/Maildir
default_internal_user = {who['internal']}
default_internal_group = {who['internal_group']}
default_login_user = {who['login']}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {folder}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
""")
    for sub in ("run", "state", "home"):
        (folder / sub).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(folder / sub, who["uid"], who["gid"])
    return config


def start(folder: Path) -> ImapServer:
    """Start Dovecot in the foreground on a free loopback port; wait until it answers."""
    port = free_port()
    config = write_config(folder, port)
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    server = ImapServer(folder, port, process)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                server.client().logout()
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    log = (folder / "dovecot.log").read_text() if (folder / "dovecot.log").exists() else ""
    raise RuntimeError(f"Dovecot did not start:\n{output}\n{log}")


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """A Dovecot IMAP server for the whole run (skipped without Dovecot, unless required)."""
    if not os.path.exists(DOVECOT):
        if os.environ.get("PLAINT_REQUIRE_IMAP") == "1":
            pytest.fail("Dovecot is required (PLAINT_REQUIRE_IMAP=1) but /usr/sbin/dovecot "
                        "is missing: apt-get install dovecot-imapd")
        pytest.skip("Dovecot not installed (apt-get install dovecot-imapd); mailbox tests "
                    "skipped")
    # Not under pytest's temp folder: as root that is mode 0700 and the mail user (dovecot)
    # could not reach the maildir below it.
    folder = Path(tempfile.mkdtemp(prefix="plaint-dovecot-"))
    try:
        server = start(folder)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def mailbox(imap_server: ImapServer) -> Iterator[ImapServer]:
    """The IMAP server with an empty mailbox for one test."""
    imap_server.clear()
    yield imap_server
    imap_server.clear()
