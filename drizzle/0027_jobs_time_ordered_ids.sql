-- Job ids are time-ordered (UUIDv7, RFC 9562; ADR 011). A claim takes jobs enqueued together and a completion reports
-- them together; with random ids (v4) each of their ids sat on its own page of jobs' primary key, so a claim or a
-- completion of 500 jobs descended the index 500 times over 500 pages. With time-ordered ids they sit side by side.
-- PostgreSQL 18 generates them itself (uuidv7()); on older servers the same layout is built from gen_random_uuid()
-- (13+): the first 48 bits become the Unix time in milliseconds and the version nibble turns from 4 (0100) into
-- 7 (0111) by setting bits 52 and 53 (set_bit numbers a bytea's bits from the low bit of its first byte); the
-- variant bits and the 74 random bits stay. Ids made in the same millisecond by the fallback are not ordered among
-- themselves (PostgreSQL 18's are); either way they share their neighbourhood of the index.
DO $migrate$
BEGIN
  IF current_setting('server_version_num')::int >= 180000 THEN
    EXECUTE $f$CREATE FUNCTION cairn_uuidv7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS 'SELECT uuidv7()'$f$;
  ELSE
    EXECUTE $f$CREATE FUNCTION cairn_uuidv7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $b$
      SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
        52, 1), 53, 1), 'hex')::uuid
    $b$
    $f$;
  END IF;
END
$migrate$;
--> statement-breakpoint
ALTER TABLE "jobs" ALTER COLUMN "id" SET DEFAULT cairn_uuidv7();
