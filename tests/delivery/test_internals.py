"""What gives a receiver's internals away in an error answer: one sample body per pattern of the table, and the
ordinary error bodies that must not count."""

from __future__ import annotations

import pytest

from conformance.checks.answers import CheckContext
from conformance.checks.internals import LEAKS, InternalsExposed, error_answer_hides_internals, leaks
from conformance.delivery.sender import Exchange

SAMPLES = {
    "python-traceback": 'Traceback (most recent call last):\n  File "app.py", line 3, in <module>',
    "python-frame": '  File "/srv/app/views.py", line 41, in dlr\n    shard = job[0]',
    "java-frame": "java.lang.NullPointerException\n\tat com.acme.dlr.Handler.handle(Handler.java:42)",
    "java-exception": '{"error": "org.springframework.dao.DataIntegrityViolationException: could not execute"}',
    "php-error": "PHP Fatal error:  Uncaught TypeError: count() in /var/www/dlr.php on line 12",
    "php-frame": "#0 /var/www/html/vendor/app/Dlr.php(88): Dlr->store()",
    "dotnet-exception": "System.NullReferenceException: Object reference not set to an instance of an object.",
    "dotnet-frame": "   at Acme.Dlr.Store(Report r) in C:\\src\\Acme\\Dlr.cs:line 27",
    "aspnet-error-page": "<h1>Server Error in '/' Application.</h1>",
    "node-frame": "TypeError: x is undefined\n    at handler (/app/server.js:17:9)",
    "ruby-frame": "/app/controllers/dlr_controller.rb:12:in `create'",
    "go-panic": "panic: runtime error: index out of range\n\ngoroutine 7 [running]:\nmain.handler()",
    "sqlstate": "SQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry",
    "postgres-syntax": 'ERROR:  syntax error at or near "OR"\nLINE 1: ...',
    "mysql-syntax": "You have an error in your SQL syntax; check the manual that corresponds to your MySQL",
    "oracle-error": "ORA-00933: SQL command not properly ended",
    "sqlite-error": 'sqlite3.OperationalError: near "OR": syntax error',
    "mssql-error": "Unclosed quotation mark after the character string ''.",
    "python-db-error": "psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint",
    "django-debug": "<p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings",
    "laravel-whoops": "<title>Whoops, looks like something went wrong.</title>",
    "rails-debug": "<title>Action Controller: Exception caught</title>",
    "werkzeug-debugger": "<title>KeyError // Werkzeug Debugger</title>",
    "symfony-debug": "Symfony\\Component\\HttpKernel\\Exception\\NotFoundHttpException",
    "unix-path": "could not open /home/deploy/dlr/config/settings.yml",
    "windows-path": "Could not find a part of the path 'C:\\inetpub\\wwwroot\\dlr\\web.config'.",
}

ORDINARY = [
    '{"error": "invalid"}',
    '{"error": "unauthorized"}',
    "Internal Server Error",
    "<!doctype html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL "
    "was not found on the server. If you entered the URL manually please check your spelling and try again.</p>"
    "</body></html>",
    "<html><head><title>Page not found at /dlr</title></head><body><h1>Page not found (404)</h1></body></html>",
    '{"status": 400, "message": "data: at least 1 record required", "path": "/dlr/callback"}',
    "CSRF verification failed. Request aborted.",
    "Bad Request: see https://docs.example.com/var/errors/400 for the error codes",
]


def test_every_pattern_has_a_sample() -> None:
    assert set(SAMPLES) == {leak.name for leak in LEAKS}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_pattern_finds_its_sample(name: str) -> None:
    found = [leak.name for leak, _ in leaks(SAMPLES[name])]
    assert name in found, found


@pytest.mark.parametrize("body", ORDINARY)
def test_ordinary_error_bodies_show_nothing(body: str) -> None:
    assert leaks(body) == ()


def _exchange(status: int, body: str) -> Exchange:
    return Exchange(body=b"{}", started=0.0, status=status, response_body=body.encode())


CONTEXT = CheckContext(timeout=10, latency_budget=2, https=False)


def test_the_check_warns_on_an_error_answer_with_the_snippet() -> None:
    with pytest.raises(InternalsExposed) as caught:
        error_answer_hides_internals(_exchange(500, "x" * 500 + SAMPLES["python-traceback"] + "y" * 500), CONTEXT)
    assert "the 500 answer shows a Python traceback" in str(caught.value)
    assert "Traceback (most recent call last)" in str(caught.value)
    assert len(str(caught.value)) < 500  # a snippet, not the body


def test_the_check_leaves_200_and_ordinary_errors_alone() -> None:
    error_answer_hides_internals(_exchange(200, SAMPLES["python-traceback"]), CONTEXT)
    error_answer_hides_internals(_exchange(400, ORDINARY[0]), CONTEXT)
