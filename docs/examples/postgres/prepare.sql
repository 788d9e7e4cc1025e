-- The preparer: create the messages as the application's send request would have.
--   psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -f prepare.sql
-- The request arrives on standard input (one line of JSON), read as in reader.sql (NUL, which text cannot hold,
-- becomes U+FFFD).
CREATE TEMP TABLE request (body text);
\copy request FROM pstdin WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
INSERT INTO dlr_message (message_id, api_job_id, recipient, client_message_id, client_job_id, type)
SELECT m ->> 'message_id', m ->> 'api_job_id', m ->> 'to', m ->> 'client_message_id', m ->> 'client_job_id',
       m ->> 'type'
FROM request, json_array_elements(replace(body, '\u0000', '\ufffd')::json -> 'messages') AS m
ON CONFLICT (message_id) DO NOTHING;
