"""Saved views of the lead list (/leads/): a name for a search and its filters."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .teams import Team


class SavedView(models.Model):
    """A user's saved search of /leads/; with a team, a manager shares it with everyone in that team."""

    # Indexed as the leading column of savedview_unique_name_per_owner.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views", db_index=False
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="saved_views",
        db_index=False,
        help_text=gettext_lazy("Shared with this team's members; empty: only the owner sees it."),
    )
    name = models.CharField(max_length=80)
    # The query string of /leads/ without its page cursor, as validated when saved.
    query = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="savedview_unique_name_per_owner"),
        ]
        indexes = [
            # The team's shared views, read with the list page.
            models.Index(fields=["team"], name="savedview_team_idx", condition=models.Q(team__isnull=False)),
        ]

    def __str__(self):
        return self.name
