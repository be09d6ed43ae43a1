"""User activities and the per-group log of the events their changes produced."""

import uuid

from django.conf import settings
from django.db import models

from activities.types import ActivityType


class UserActivity(models.Model):
    """Something a user did, as the reference endpoint describes it, field for field."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activities"
    )
    workspace_group = models.ForeignKey(
        "iam.WorkspaceGroup",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
        help_text=(
            "Workspace group this activity belongs to (derived from user personal "
            "workspace or resource context)"
        ),
    )
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    text = models.CharField(max_length=1023)
    activity_type = models.IntegerField(
        choices=ActivityType.choices, default=ActivityType.USER_LOGIN
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # The reference endpoint distinguishes null from "" in these three.
    created_by = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    updated_by = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    deleted_by = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    resource = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "user activities"
        indexes = [
            models.Index(fields=["workspace_group", "-id"], name="activity_group_feed"),
            models.Index(fields=["user", "-id"], name="activity_author"),
            models.Index(fields=["updated_at"], name="activity_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.get_activity_type_display()}: {self.text[:40]}"

    @property
    def in_feed(self) -> bool:
        """Whether the activity shows in its group's live feed."""
        return self.is_active and self.workspace_group_id is not None


class ActivityEvent(models.Model):
    """One committed change as its group's subscribers receive it: the replay log."""

    class Kind(models.TextChoices):
        CREATED = "activity.created"
        UPDATED = "activity.updated"
        REMOVED = "activity.removed"

    workspace_group = models.ForeignKey(
        "iam.WorkspaceGroup", on_delete=models.CASCADE, related_name="events"
    )
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=32, choices=Kind.choices)
    activity_id = models.BigIntegerField()
    activity_type = models.IntegerField()
    prior_activity_type = models.IntegerField(
        null=True,
        help_text=(
            "The activity's type before the change, on updated and removed events: "
            "a subscriber filtering by type hears of an activity leaving its filter."
        ),
    )
    access_version = models.PositiveBigIntegerField()
    frame = models.TextField(help_text="The server-to-client frame, JSON text as sent.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_group", "seq"], name="unique_event_seq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.workspace_group_id}#{self.seq} {self.kind}"
