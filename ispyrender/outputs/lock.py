"""An output folder belongs to one run at a time.

Two runs into one ``--out`` both used to succeed, the second silently replacing the first's
files. A run now takes an advisory lock on a file inside its output folder (a gallery, which
replaces its folder whole, on one beside it) before it checks or writes anything, and a second
run into that folder is refused at once, naming the process that holds it. The lock is
``flock``'s: the kernel drops it when the process ends, however it ends, so a killed run never
leaves a folder locked. Runs into different folders take different locks and stay parallel; a
Dask batch's client holds its folder's lock while the workers draw.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from pathlib import Path

from ispyrender.errors import OutputError
from ispyrender.outputs.files import unwritable_folder

__all__ = ["LOCK_NAME", "FolderLock"]

#: The lock file inside an output folder; removed again when the run ends.
LOCK_NAME = ".ispyrender.lock"


def _who() -> str:
    """What the holder says of itself: its process id, command line and start time."""
    args = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv and sys.argv[0] else ""
    command = args if len(args) <= 120 else args[:117] + "..."
    return f"{os.getpid()}\t{command or 'python'}\t{time.strftime('%H:%M:%S')}\n"


class FolderLock:
    """The lock on the output folder ``folder`` (made if it does not exist yet), or with
    ``beside=True`` on a file beside it, for a job that replaces the folder as a whole.

    :meth:`acquire` refuses with an :class:`OutputError` when another run holds it;
    :meth:`release` removes the lock file, and the folder again when the lock made it and
    nothing was written there."""

    def __init__(self, folder: Path, *, beside: bool = False) -> None:
        self.folder = folder
        self.beside = beside
        self.path = (
            folder.absolute().parent / f".{folder.name}-ispyrender.lock"
            if beside
            else folder / LOCK_NAME
        )
        self._fd: int | None = None
        self._made: list[Path] = []

    def acquire(self) -> FolderLock:
        try:
            return self._acquire()
        except OSError as exc:  # read-only, a path too long, a loop of links, ...
            self._unmake()
            raise unwritable_folder(self.path.parent, exc) from None

    def _acquire(self) -> FolderLock:
        where = self.path.parent
        if not where.exists():
            # The folders this lock makes, innermost first, to be taken away if left empty.
            missing = [p for p in [where, *where.parents] if not p.exists()]
            where.mkdir(parents=True, exist_ok=True)
            self._made = missing
        elif not where.is_dir():
            raise OutputError(f"output folder {where} is a file: choose another --out")
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 4096).decode(errors="replace")
                os.close(fd)
                self._unmake()
                raise OutputError(self._refusal(holder)) from None
            except OSError:
                # A file system without locks (some network mounts): nothing to guard with.
                os.close(fd)
                return self
            # The holder before us may have removed the file between our open and our lock:
            # then we hold a lock on a file no one else will see. Take the one now there.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        # A command line may hold any bytes (a file name that is not UTF-8).
        os.write(fd, _who().encode("utf-8", "backslashreplace"))
        self._fd = fd
        return self

    def _refusal(self, holder: str) -> str:
        pid, command, since = ([*holder.strip().split("\t"), "", "", ""])[:3]
        by = f"process {pid}" if pid else "another process"
        if command:
            by += f" ({command}"
            by += f", since {since})" if since else ")"
        what = "gallery" if self.beside else "output folder"
        return (
            f"{what} {self.folder} is in use by another run, {by}: wait for it to end, "
            "or choose another --out"
        )

    def release(self) -> None:
        """Give the folder back (removing the lock file first, then unlocking: a run waiting
        to open it sees either the held file or none)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None
        self._unmake()

    def _unmake(self) -> None:
        # Folders this lock made and nothing else filled (a run refused before writing).
        for folder in self._made:
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._made = []

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
