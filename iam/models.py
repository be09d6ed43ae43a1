"""Users, their details, workspace groups and who belongs to which."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

# Keys are signed 64-bit (BigAutoField): a larger id names nothing, and some
# databases fail on it instead of finding no row, so callers check this first.
MAX_ID = 2**63 - 1


class IAMUser(AbstractUser):
    """The project's user model; every user owns a personal workspace group."""

    class Meta:
        verbose_name = "user"


class IAMUserDetail(models.Model):
    """Profile details of a user; the first one's picture is the user's avatar."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="details"
    )
    profile_picture = models.ImageField(
        upload_to="profile_pictures/", null=True, blank=True
    )
    bio = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["id"]
        verbose_name = "user detail"

    def __str__(self) -> str:
        return f"details of {self.user_id}"


class WorkspaceGroup(models.Model):
    """A set of users who see each other's activities, and the head of its event stream.

    `event_seq` and `access_version` share this row on purpose: a writer takes the
    row lock to number its event, and a revocation takes the same lock to bump the
    version, so every event committed after a revocation carries the new version.
    """

    name = models.CharField(max_length=150)
    personal_owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="personal_group",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    event_seq = models.PositiveBigIntegerField(default=0, editable=False)
    access_version = models.PositiveBigIntegerField(default=0, editable=False)
    members: "models.ManyToManyField[IAMUser, Membership]" = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="workspace_groups"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in a group: members see, admins also edit others' work."""

    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        ADMIN = "admin", "Admin"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    group = models.ForeignKey(
        WorkspaceGroup, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)
    # The group's seq when the user joined: events up to it were committed before
    # the user had access, so a replay never reaches back past it.
    joined_seq = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "group"], name="unique_membership")
        ]
        indexes = [models.Index(fields=["group", "user"])]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id} ({self.role})"
