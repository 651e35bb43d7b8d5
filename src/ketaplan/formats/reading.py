"""Reading the files ketaplan is given (clinic file, calendars, batch files): regular files
of a bounded size only, so a device, a FIFO or a huge file is an error, not a hang."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ketaplan.core.errors import KetaplanError


def read_regular(path: Path, most: int, error: type[KetaplanError]) -> bytes:
    """A regular file's bytes, at most `most` of them. A device (/dev/zero, /dev/urandom)
    or a FIFO is refused before it is read: reading one never ended."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO with no writer: no wait at open
    except FileNotFoundError:
        raise error("no such file", field=str(path)) from None
    except OSError as e:
        raise error(f"cannot read: {e.strerror}", field=str(path)) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise error("is not a regular file (a device, a pipe or a folder)", field=str(path))
    with os.fdopen(fd, "rb") as f:
        if info.st_size > most:
            raise error(f"is larger than {most // (1024 * 1024)} MB; not a file ketaplan reads", field=str(path))
        data = f.read(most + 1)
    if len(data) > most:  # it grew while we read
        raise error(f"is larger than {most // (1024 * 1024)} MB; not a file ketaplan reads", field=str(path))
    return data
