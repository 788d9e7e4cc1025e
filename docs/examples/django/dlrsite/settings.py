"""Settings of the example project: one app, ``receipts``, that stores delivery reports in SQLite."""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "example-only-not-secret"  # noqa: S105 - an example project
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
INSTALLED_APPS = ["receipts"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "dlrsite.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",  # the developer's own data: tests never touch it
        # a write transaction takes its lock at BEGIN, so that concurrent callbacks wait instead of failing
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
        "TEST": {"NAME": BASE_DIR / "test_db.sqlite3"},  # a file: the live server's threads share it
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "static/"
