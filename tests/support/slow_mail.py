"""An e-mail backend for the worker-crash tests: one file per message, written slowly.

Each message becomes its own file (unique name, written to a temporary name and
renamed, so a killed process never leaves half a message). The delay before each
write gives a test time to SIGKILL the worker in the middle of a batch.
"""

import os
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class SlowFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        delay = float(os.environ.get("FUNNEL_TEST_MAIL_DELAY", "0"))
        sent = 0
        for message in email_messages:
            time.sleep(delay)
            name = uuid.uuid4().hex
            temporary = folder / f".{name}.tmp"
            temporary.write_bytes(message.message().as_bytes())
            temporary.rename(folder / f"{name}.eml")
            sent += 1
        return sent


def message_ids(folder):
    """Message-ID headers of every delivered message in ``folder`` (repeats included)."""
    ids = []
    for path in sorted(Path(folder).glob("*.eml")):
        for line in path.read_text().splitlines():
            if line.lower().startswith("message-id:"):
                ids.append(line.split(":", 1)[1].strip())
                break
    return ids
