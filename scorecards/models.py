"""Risk areas and who owns them (the RACI table); colours and measures build on these."""

from django.db import models

from csrisk.roles import TeamFunction
from scorecards.choices import AreaCode


class Area(models.Model):
    """One of the eight risk areas, with the team that reviews its flagged CTAs."""

    code = models.CharField(max_length=20, choices=AreaCode.choices, unique=True)
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=300, blank=True)
    owning_function = models.CharField(
        max_length=20,
        choices=TeamFunction.choices,
        help_text="The function that owns this area and reviews its flagged CTAs (RACI).",
    )
    owning_team = models.ForeignKey(
        "csrisk.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_areas",
        help_text="Optional: a specific team; otherwise any team of the owning function.",
    )
    weight = models.PositiveSmallIntegerField(
        default=10, help_text="Weight of this area in the overall score used for ranking."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name
