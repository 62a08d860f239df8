"""The last words of `make run`: once the web server answers, say where it is and who can log in.

A Procfile entry of its own, so the logins come after the start-up lines of web,
worker and beat instead of scrolling away above them. It then waits quietly for
the Ctrl-C that stops everything (honcho stops all processes when one exits).
"""

import os
import signal
import sys
import time
import urllib.error
import urllib.request


def wait_for(url, *, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # it answered
        except OSError:
            time.sleep(0.3)
    return False


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "funnelapp.settings")
    import django

    django.setup()
    from django.conf import settings

    from leads.management.commands.seed_demo import login_lines

    url = settings.FUNNEL_SITE_URL.rstrip("/") + "/"
    if not wait_for(url + "login/", timeout=60):
        print(f"The web server did not answer at {url} within a minute; see the web lines above.", flush=True)
    else:
        print("", *login_lines(), "", f"Funnel is ready at {url}  (Ctrl-C stops everything)", sep="\n", flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
