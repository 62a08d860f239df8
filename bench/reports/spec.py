"""What the reports benchmark builds and times: the data's size and shape, its fixed "now", the targets."""

from datetime import UTC, datetime
from pathlib import Path

LEADS = 1_000_000
# The data is built once and reused, so "now" is a fixed moment: a year of history ends here.
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
HISTORY_DAYS = 365
PERIOD_DAYS = 90
# The longest period a report is asked for (the target: any period up to a year).
LONG_PERIOD_DAYS = 365
TEAMS = ("Bench inside sales", "Bench field sales")
REPS_PER_TEAM = 10
MQL_SHARE = 0.6
TARGET_RATIO = 1.5
# Every report through the API for any period up to LONG_PERIOD_DAYS.
TARGET_API_SECONDS = 0.3
TARGET_PAGE_SECONDS = 1.0
BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Describes the generated data; a stored dataset is reused only if it matches.
SPEC = {
    "version": 1,
    "leads": LEADS,
    "now": NOW.isoformat(),
    "history_days": HISTORY_DAYS,
    "teams": len(TEAMS),
    "reps_per_team": REPS_PER_TEAM,
    "mql_share": MQL_SHARE,
}
