-- The preparer: create the messages as the application's send request would have.
--   psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -f prepare.sql
-- The request arrives on standard input (one line of JSON), read as in reader.sql (NUL, which text cannot hold,
-- becomes U+FFFD).
BEGIN;
SELECT pg_advisory_xact_lock(4242) \g /dev/null
CREATE TEMP TABLE request (body text);
\copy request FROM pstdin WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
INSERT INTO dlr_message (message_id, api_job_id, recipient, client_message_id, client_job_id, type)
SELECT m ->> 'message_id', m ->> 'api_job_id', m ->> 'to', m ->> 'client_message_id', m ->> 'client_job_id',
       m ->> 'type'
FROM request, json_array_elements(replace(body, '\u0000', '\ufffd')::json -> 'messages') AS m
ON CONFLICT (message_id) DO NOTHING;
-- Reports that came before their message (kept by app.py in dlr_early_report): applied now, in arrival order,
-- as app.py applies a report (each distinct one once, the newest status kept).
DO $$
DECLARE
    early record;
    r jsonb;
BEGIN
    FOR early IN SELECT e.id, e.message_id, e.report FROM dlr_early_report e JOIN dlr_message m USING (message_id)
                 ORDER BY e.id LOOP
        r := early.report;
        INSERT INTO dlr_report (message_id, status) VALUES (early.message_id, r ->> 'status') ON CONFLICT DO NOTHING;
        IF FOUND THEN
            UPDATE dlr_message SET
                reports = reports + 1,
                status = CASE WHEN newer THEN r ->> 'status' ELSE status END,
                "timestamp" = CASE WHEN newer THEN (r ->> 'timestamp')::bigint ELSE "timestamp" END,
                micro_timestamp = CASE WHEN newer THEN (r ->> 'micro_timestamp')::bigint ELSE micro_timestamp END,
                error_code = CASE WHEN newer THEN (r ->> 'error_code')::smallint ELSE error_code END,
                sender = CASE WHEN newer THEN r ->> 'sender' ELSE sender END,
                api_job_id = CASE WHEN newer THEN r ->> 'api_job_id' ELSE api_job_id END,
                client_job_id = CASE WHEN newer THEN r ->> 'client_job_id' ELSE client_job_id END,
                client_message_id = CASE WHEN newer THEN r ->> 'client_message_id' ELSE client_message_id END,
                type = CASE WHEN newer THEN r ->> 'type' ELSE type END
            FROM (SELECT status IS NULL OR ("timestamp", micro_timestamp)
                         <= ((r ->> 'timestamp')::bigint, (r ->> 'micro_timestamp')::bigint) AS newer
                  FROM dlr_message WHERE message_id = early.message_id) AS n
            WHERE message_id = early.message_id;
        END IF;
        DELETE FROM dlr_early_report WHERE id = early.id;
    END LOOP;
END
$$;
COMMIT;
