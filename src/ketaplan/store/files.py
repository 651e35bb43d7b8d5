"""Writing files that hold patient data: atomically, mode 0600, never over a file by accident.

Never over the ledger, the clinic file or its busy calendar either (`protected`: a calendar
written over the ledger once exited 0 with every plan gone), and never over anything but
a regular file: `--force` replaces a file, not a device, a FIFO or a folder."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ketaplan.core.errors import FileWriteError

#: Paths output must never go to, each with its role for the message ("the ledger").
Protected = Mapping[Path, str]


def _is_dir(path: Path, field: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except FileNotFoundError:
        return False
    except OSError as e:  # a name too long, a loop of links, a folder we may not enter
        raise FileWriteError(f"cannot use {path}: {e.strerror}", field=field) from None


def ensure_folder(folder: Path, *, field: str) -> Path:
    """An output folder (--out), made if missing -- private, as what goes in holds patient
    data. A path that exists but is not a folder, or cannot be made, is refused."""
    if not _is_dir(folder, field):
        try:
            folder.mkdir(mode=0o700, parents=True)
        except FileExistsError:
            raise FileWriteError(f"{folder} is not a folder", field=field) from None
        except OSError as e:
            raise FileWriteError(f"cannot make folder {folder}: {e.strerror}", field=field) from None
    probe_folder(folder, field=field)
    return folder


def probe_folder(folder: Path, *, field: str) -> None:
    """Make (and remove) an empty temp file there: the one sure test that a file can be
    written (permissions, read-only mounts, /proc), made before anything is booked."""
    if not folder.is_dir():
        raise FileWriteError(f"folder {folder} does not exist", field=field)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ketaplan-", suffix=".tmp")
    except OSError as e:
        raise FileWriteError(f"folder {folder} is not writable ({e.strerror})", field=field) from None
    os.close(fd)
    Path(tmp).unlink(missing_ok=True)


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (links and relative paths resolved)."""
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def temp_prefix(name: str = "") -> str:
    """A temp file's name begins with the writer's pid, so a later run can tell one left by a
    killed process (it holds patient data) from one being written now."""
    return f".ketaplan-{os.getpid()}-{name}"


#: A patient file being written (.tmp), a ledger being made (.new) and SQLite's side files of it.
_LEFTOVER_ENDINGS = (".tmp", ".new", ".new-wal", ".new-shm")


def sweep_leftovers(folder: Path) -> list[Path]:
    """Remove temp files a killed ketaplan left in `folder` (its pid no longer runs): they
    hold patient data, and nothing else would ever remove them. Returns what was removed."""
    removed: list[Path] = []
    try:
        names = [n for n in os.listdir(folder) if n.startswith(".ketaplan-") and n.endswith(_LEFTOVER_ENDINGS)]
    except OSError:
        return removed
    for name in names:
        pid_text = name[len(".ketaplan-") :].split("-", 1)[0]
        if not pid_text.isdigit() or _running(int(pid_text)):
            continue
        path = folder / name
        try:
            if stat.S_ISREG(os.lstat(path).st_mode):
                path.unlink()
                removed.append(path)
        except OSError:
            pass  # another sweeper got it, or it is not ours to remove
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: running
        return True
    return True


def check_target(path: Path, *, force: bool, field: str, protected: Protected | None = None) -> None:
    """What write_private would refuse, refused before anything is booked."""
    for kept, role in (protected or {}).items():
        if same_file(path, kept):
            raise FileWriteError(f"{path} is {role}; write the file somewhere else", field=field)
    try:
        os.lstat(path)
        exists = True
    except FileNotFoundError:
        exists = False
    except OSError as e:  # e.g. a file name longer than the file system allows
        raise FileWriteError(f"cannot write {path}: {e.strerror}", field=field) from None
    if exists:
        if not force:  # a dangling symlink exists too: never replace it unasked
            raise FileWriteError(f"{path} exists; give --force to replace it", field=field)
        try:
            mode = os.stat(path).st_mode
        except OSError:
            mode = stat.S_IFREG  # a dangling symlink: the link itself is replaced
        if stat.S_ISDIR(mode):
            raise FileWriteError(f"{path} is a folder", field=field)
        if not stat.S_ISREG(mode):  # /dev/null, a FIFO, a socket: --force replaces files only
            raise FileWriteError(f"{path} is not a regular file; --force replaces files only", field=field)
    probe_folder(path.parent if str(path.parent) else Path("."), field=field)


def write_private(path: Path, data: bytes, *, force: bool, field: str, protected: Protected | None = None) -> Path:
    """Write via a temp file in the same folder and rename, so readers never see half a file."""
    folder = path.parent if str(path.parent) else Path(".")
    if not _is_dir(folder, field):
        raise FileWriteError(f"folder {folder} does not exist", field=field)
    check_target(path, force=force, field=field, protected=protected)
    sweep_leftovers(folder)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=temp_prefix(), suffix=".tmp")
    except OSError as e:
        raise FileWriteError(f"cannot write in {folder}: {e.strerror}", field=field) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise FileWriteError(f"cannot write {path}: {e.strerror}", field=field) from None
    return path
