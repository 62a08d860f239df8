"""Memory for the report statements that sort a period's rows: PostgreSQL's ``work_mem``, raised for one transaction.

At 1M leads the rejection review's grouping sets sort the year's rejections
and, at the server's default ``work_mem`` (4MB), spill 17MB to temporary
files. Raising ``work_mem`` for the whole server would let every sort and hash
of every query take that much, so only the reports that gain from it ask for
it, with ``SET LOCAL`` (``set_config(..., true)``), which ends with their
transaction.
"""

from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction


@contextmanager
def sort_memory():
    """Run the block in a transaction whose sorts and hashes may each use ``settings.REPORTS_SORT_WORK_MEM_MB`` of memory (0: the server's ``work_mem``); raises nothing of its own.

    Inside a caller's transaction (a request with ``ATOMIC_REQUESTS``, a test) no
    savepoint is made: the setting then lasts until that transaction ends.
    """
    megabytes = settings.REPORTS_SORT_WORK_MEM_MB
    if not megabytes:
        yield
        return
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [f"{megabytes}MB"])
        yield
