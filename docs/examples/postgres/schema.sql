-- The example receiver's store: one row per message the application sent, updated by its delivery reports.
CREATE TABLE IF NOT EXISTS dlr_message (
    message_id        text PRIMARY KEY,
    api_job_id        text,
    client_job_id     text,
    client_message_id text,
    type              text,
    recipient         text,
    sender            text,
    status            text,              -- the newest report's status; NULL until the first report
    "timestamp"       bigint,            -- 64-bit: the platform sends milliseconds here
    micro_timestamp   bigint,
    error_code        smallint,          -- a short, over its whole range
    reports           integer NOT NULL DEFAULT 0
);
-- Each distinct report (message, status) is processed once: a retry of it changes nothing.
CREATE TABLE IF NOT EXISTS dlr_report (
    message_id text NOT NULL REFERENCES dlr_message (message_id),
    status     text NOT NULL,
    PRIMARY KEY (message_id, status)
);
-- A report for a message the application has not stored yet (the platform can report before the send request's
-- answer was stored): kept here, answered 200, and applied by prepare.sql when the message is created.
CREATE TABLE IF NOT EXISTS dlr_early_report (
    id         bigserial PRIMARY KEY,
    message_id text NOT NULL,
    report     jsonb NOT NULL
);
