from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A person who signs in. Portal admins are superusers; team roles live on Membership."""

    @property
    def is_portal_admin(self) -> bool:
        return self.is_active and self.is_superuser

    class Meta:
        ordering = ["username"]
