-- The state reader: one JSON object per message asked for, in the platform's words.
--   psql "$DATABASE_URL" -X -q -At -v ON_ERROR_STOP=1 -f reader.sql
-- The request arrives on standard input (one line of JSON), read with \copy ... FROM pstdin; CSV with
-- delimiter and quote characters that JSON never holds, so the line is taken verbatim; NUL (\u0000), which
-- PostgreSQL text cannot hold, becomes U+FFFD as in app.py.
CREATE TEMP TABLE request (body text);
\copy request FROM pstdin WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT json_build_object(
           'message_id', message_id, 'status', status, 'reports', reports,
           'api_job_id', api_job_id, 'client_job_id', client_job_id, 'client_message_id', client_message_id,
           'type', type, 'to', recipient, 'timestamp', "timestamp", 'micro_timestamp', micro_timestamp,
           'error_code', error_code)
FROM dlr_message
WHERE message_id IN (SELECT json_array_elements_text(replace(body, '\u0000', '\ufffd')::json -> 'message_ids') FROM request);
