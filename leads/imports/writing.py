"""The import's writer thread: the database writes one batch while the next is read."""

import contextlib
import queue
import threading

from django.db import connection
from django.utils import translation


class Pipeline:
    """Hands batches to ``commit`` in order: in a thread of its own when ``threaded``, at most one batch ahead.

    The thread has its own database connection, so the file is read and checked
    while PostgreSQL writes the previous batch. An error in either thread stops both
    and is raised here.
    """

    def __init__(self, commit, *, threaded):
        self.commit = commit
        self.threaded = threaded
        self.error = None

    def __enter__(self):
        if self.threaded:
            # Reasons the writer gives a bad row are in the language the import runs in.
            self.language = translation.get_language()
            self.queue = queue.Queue(maxsize=1)
            self.thread = threading.Thread(target=self._work, name="import-writer", daemon=True)
            self.thread.start()
        return self

    def put(self, *batch):
        if not self.threaded:
            self.commit(*batch)
            return
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.queue.put(batch, timeout=0.2)
                return
            except queue.Full:
                continue

    def _work(self):
        try:
            with translation.override(self.language):
                while (batch := self.queue.get()) is not None:
                    self.commit(*batch)
        except BaseException as exc:  # handed to the reading thread
            self.error = exc
        finally:
            connection.close()

    def __exit__(self, exc_type, exc, traceback):
        if not self.threaded:
            return False
        if exc_type is not None:
            with contextlib.suppress(queue.Empty):
                self.queue.get_nowait()  # the batch not started yet: leave it
        while self.thread.is_alive():
            try:
                self.queue.put(None, timeout=0.2)
                break
            except queue.Full:
                continue
        self.thread.join()
        if exc_type is None and self.error is not None:
            raise self.error
        return False
