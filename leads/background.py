"""Start Celery tasks once the current transaction commits, naming them rather than importing them.

``leads.tasks`` sits above everything it calls (transitions, scoring, imports,
jobs), so the code below it names a task instead of importing it: no import
cycle, and a task never starts before the rows it reads are committed.
"""

from celery import current_app
from django.db import transaction


def start(task_name, *args):
    """Queue ``task_name(*args)`` now, for work whose rows are already committed; raises nothing."""
    current_app.tasks[task_name].delay(*args)


def after_commit(task_name, *args):
    """Queue ``task_name(*args)`` when the current transaction commits (at once outside one); raises nothing."""
    transaction.on_commit(lambda: start(task_name, *args))


def once_after_commit(task_name):
    """Queue the argument-free ``task_name`` when the current transaction commits, once however often asked; raises nothing.

    A transaction that promotes a thousand leads (a rescore batch, the demo data)
    queues one outbox delivery, not a thousand.
    """
    connection = transaction.get_connection()
    if any(getattr(func, "task_name", None) == task_name for _sids, func, _robust in connection.run_on_commit):
        return

    def send():
        start(task_name)

    send.task_name = task_name
    transaction.on_commit(send)
