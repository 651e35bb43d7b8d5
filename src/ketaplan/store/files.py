"""Writing files that hold patient data: atomically, mode 0600, never over a file by accident."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ketaplan.core.errors import FileWriteError


def ensure_folder(folder: Path, *, field: str) -> Path:
    """An output folder (--out), made if missing -- private, as what goes in holds patient
    data. A path that exists but is not a folder, or cannot be made, is refused."""
    if not folder.is_dir():
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


def check_target(path: Path, *, force: bool, field: str) -> None:
    """What write_private would refuse, refused before anything is booked."""
    if os.path.lexists(path) and not force:  # a dangling symlink exists too: never replace it unasked
        raise FileWriteError(f"{path} exists; give --force to replace it", field=field)
    if path.is_dir():
        raise FileWriteError(f"{path} is a folder", field=field)
    probe_folder(path.parent if str(path.parent) else Path("."), field=field)


def write_private(path: Path, data: bytes, *, force: bool, field: str) -> Path:
    """Write via a temp file in the same folder and rename, so readers never see half a file."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileWriteError(f"folder {folder} does not exist", field=field)
    if os.path.lexists(path) and not force:  # a dangling symlink exists too: never replace it unasked
        raise FileWriteError(f"{path} exists; give --force to replace it", field=field)
    if path.is_dir():
        raise FileWriteError(f"{path} is a folder", field=field)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ketaplan-", suffix=".tmp")
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
