"""Reading uploaded process files: loose .bpmn/.dmn/.json files or one ZIP made elsewhere.

Nothing uploaded touches the disk and nothing is trusted: names are checked (no folders
climbing out, only the three bundle kinds), entry counts and sizes are capped before a
byte is inflated, and every entry is read with a hard limit, so a ZIP whose headers lie
(a zip bomb) stops at the limit. The XML itself is parsed later, by the hardened parser
of the deploy-time checks.
"""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import PurePosixPath

from flask_babel import gettext as _

from .versions import BUNDLE_SUFFIXES, MAX_BUNDLE_FILES

MAX_ZIP_ENTRIES = 2 * MAX_BUNDLE_FILES
# All files of a process together may be this many times the limit for one file: a ZIP of
# many small bombs is stopped here, not by the memory running out.
TOTAL_FACTOR = 16
# SpiffArena's metadata of a group of models: not part of a process. (Its
# process_model.json is kept: it names the primary diagram and process.)
METADATA_FILES = {"process_group.json"}
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9 _.()+-]{0,250}\.(bpmn|dmn|json)$")


@dataclass(frozen=True)
class UploadProblem:
    """Why an uploaded file (or the whole upload) was refused."""

    file: str | None
    message: str


class UploadRefused(Exception):
    """The upload as a whole was refused; nothing was stored."""

    def __init__(self, problems: list[UploadProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass
class Upload:
    """The bundle files found in an upload, and what was left out (with why)."""

    files: dict[str, bytes] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        """The bytes of every file kept so far."""
        return sum(len(data) for data in self.files.values())


def total_limit(max_file_bytes: int) -> int:
    """The most bytes all files of one process may hold together."""
    return TOTAL_FACTOR * max_file_bytes


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a file of a process, or None when it can."""
    if "/" in name or "\\" in name:
        return _("file names cannot contain folders: diagrams refer to forms by bare name")
    if not name.endswith(BUNDLE_SUFFIXES):
        return _("only .bpmn (diagrams), .dmn (decision tables) and .json (forms) files belong "
                 "to a process")
    if not _NAME.match(name):
        return _("use letters, digits, spaces, dots, hyphens and underscores (at most 255 "
                 "characters, not starting with a dot or a space)")
    return None


def read_upload(uploads: list[tuple[str, bytes]], max_file_bytes: int) -> Upload:
    """The bundle files in the uploaded files and ZIPs; raise UploadRefused if any is unsafe."""
    result, problems = Upload(), []
    if not uploads:
        raise UploadRefused([UploadProblem(None, _("choose the .bpmn, .dmn and .json files, "
                                                   "or one ZIP, to upload"))])
    for filename, data in uploads:
        if filename.lower().endswith(".zip") or data.startswith(b"PK\x03\x04"):
            problems += _read_zip(filename, data, max_file_bytes, result)
        else:
            # Browsers send a bare name; some old ones send the whole path of the file.
            problems += _add(result, re.split(r"[\\/]", filename)[-1], data, max_file_bytes,
                             filename)
    if not problems and not result.files:
        problems.append(UploadProblem(None, _("the upload holds no .bpmn, .dmn or .json file")))
    if len(result.files) > MAX_BUNDLE_FILES:
        problems.append(UploadProblem(None, _("a process holds at most %(num)d files",
                                              num=MAX_BUNDLE_FILES)))
    if problems:
        raise UploadRefused(problems)
    return result


def _add(result: Upload, name: str, data: bytes, max_file_bytes: int,
         shown: str) -> list[UploadProblem]:
    if name in METADATA_FILES or name.startswith(".") or not name.endswith(BUNDLE_SUFFIXES):
        result.skipped.append(shown)
        return []
    problem = name_problem(name)
    if problem:
        return [UploadProblem(shown, problem)]
    if len(data) > max_file_bytes:
        return [UploadProblem(shown, _("the file is %(size)s bytes; the limit is %(limit)s bytes",
                                       size=format(len(data), ","),
                                       limit=format(max_file_bytes, ",")))]
    if result.size + len(data) > total_limit(max_file_bytes):
        return [UploadProblem(shown, _("the files together are larger than the %(limit)s bytes "
                                       "a process may hold",
                                       limit=format(total_limit(max_file_bytes), ",")))]
    if name in result.files:
        return [UploadProblem(shown, _("another file is also named %(name)s; names must be "
                                       "unique because diagrams refer to forms by name",
                                       name=name))]
    result.files[name] = data
    return []


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a ZIP entry is refused outright (it could only be an attack or an accident)."""
    path = info.filename.replace("\\", "/")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or ".." in PurePosixPath(path).parts:
        return _("the entry points outside the archive (absolute path or '..')")
    if info.flag_bits & 0x1:
        return _("the entry is encrypted; upload an archive without a password")
    if stat.S_ISLNK(info.external_attr >> 16):
        return _("the entry is a symbolic link; archives may only hold files")
    return None


def _read_zip(filename: str, data: bytes, max_file_bytes: int,
              result: Upload) -> list[UploadProblem]:
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        return [UploadProblem(filename, _("not a ZIP archive that can be read"))]
    if len(entries) > MAX_ZIP_ENTRIES:
        return [UploadProblem(filename, _("the archive holds %(count)s entries; at most "
                                          "%(limit)s are read", count=format(len(entries), ","),
                                          limit=format(MAX_ZIP_ENTRIES, ",")))]
    problems = []
    for info in entries:
        problem = _entry_problem(info)
        if problem:
            problems.append(UploadProblem(info.filename, problem))
    if problems:
        return problems
    for info in entries:
        if info.is_dir() or info.filename.startswith("__MACOSX/"):
            continue
        name = PurePosixPath(info.filename.replace("\\", "/")).name
        if info.file_size > max_file_bytes and name.endswith(BUNDLE_SUFFIXES):
            problems.append(UploadProblem(info.filename, _(
                "the file is %(size)s bytes unpacked; the limit is %(limit)s bytes",
                size=format(info.file_size, ","), limit=format(max_file_bytes, ","))))
            continue
        content = _inflate(archive, info, max_file_bytes) \
            if name.endswith(BUNDLE_SUFFIXES) else b""
        if content is None:
            problems.append(UploadProblem(info.filename, _(
                "the entry is damaged or larger than its header says; it was not read")))
            continue
        problems += _add(result, name, content, max_file_bytes, info.filename)
        if problems:
            break  # say what is wrong without inflating the rest
    return problems


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The entry's bytes, reading at most `limit` + 1 of them; None if damaged or too big."""
    try:
        with archive.open(info) as stream:
            content = stream.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError,
            RuntimeError, ValueError):
        return None
    return content if len(content) <= limit else None
