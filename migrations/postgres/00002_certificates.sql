-- Certificates: the catalogue (证照目录), issued certificates (电子证照), the
-- status lists they sit in and the counter their serials come from. Mirrors
-- migrations/sqlite/00002_certificates.sql (same tables and columns).
--
-- Conventions as in 00001, plus:
--   * the catalogue spec is json, not jsonb: json keeps the text as given and
--     still refuses anything that is not JSON;
--   * the signed document is stored once, as the payload of its JWS (text,
--     returned as stored);
--   * there are no foreign keys from certificates to certificate_types or
--     status_lists: every issuance would take a KEY SHARE lock on the same
--     few hot rows (MultiXacts under load), and the issuer checks the type
--     before it signs anyway.

-- +goose Up
CREATE TABLE certificate_types (
    code        text COLLATE "C" PRIMARY KEY,
    name        text NOT NULL,
    holder_kind text NOT NULL CHECK (holder_kind IN ('person', 'enterprise')),
    spec        json NOT NULL CHECK (json_typeof(spec) = 'object'),
    seeded      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL
);

CREATE TABLE certificates (
    id             text COLLATE "C" PRIMARY KEY,
    type_code      text COLLATE "C" NOT NULL,
    issuer_uscc    text COLLATE "C" NOT NULL,
    serial         text COLLATE "C" NOT NULL,
    version        integer NOT NULL CHECK (version >= 1),
    number         text COLLATE "C" NOT NULL,
    holder_subject text COLLATE "C" NOT NULL,
    holder_kind    text NOT NULL CHECK (holder_kind IN ('person', 'enterprise')),
    status         text NOT NULL
        CHECK (status IN ('valid', 'suspended', 'revoked', 'cancelled', 'superseded')),
    status_reason  text NOT NULL DEFAULT '',
    valid_from     timestamptz NOT NULL,
    valid_until    timestamptz,
    jws            text NOT NULL,
    key_id         text NOT NULL,
    predecessor_id text COLLATE "C" NOT NULL DEFAULT '',
    successor_id   text COLLATE "C" NOT NULL DEFAULT '',
    status_list    text COLLATE "C" NOT NULL,
    status_index   bigint NOT NULL CHECK (status_index >= 0),
    issued_at      timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
-- One index is both the UNIQUE (type_code, issuer_uscc, number, version)
-- constraint and the "latest version of this number" index that
-- GetCertificateByNumber walks from its first entry.
CREATE UNIQUE INDEX certificates_number_idx ON certificates (type_code, issuer_uscc, number, version DESC);
CREATE UNIQUE INDEX certificates_serial_idx ON certificates (type_code, issuer_uscc, serial, version);
CREATE UNIQUE INDEX certificates_status_slot_idx ON certificates (status_list, status_index);
CREATE INDEX certificates_holder_idx ON certificates (holder_subject, id);
CREATE INDEX certificates_issuer_idx ON certificates (issuer_uscc, id);
-- StatusEntries reads only the entries that are not valid: a few, out of at
-- least 131,072 per list.
CREATE INDEX certificates_not_valid_idx ON certificates (status_list, status_index) WHERE status <> 'valid';

-- A certificate's JWS is 2 to 5 KB, so PostgreSQL compresses
-- them; lz4 does it several times faster than the default pglz (bulk
-- issuance of 10,000 rows: ≈310 ms instead of ≈400 ms). A server built
-- without lz4 keeps pglz.
-- +goose StatementBegin
DO $$
BEGIN
    ALTER TABLE certificates ALTER COLUMN jws SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END;
$$;
-- +goose StatementEnd

CREATE TABLE status_lists (
    id         text COLLATE "C" PRIMARY KEY,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- The counter behind NextCertificateNumbers (store/postgres reserveNumbers
-- explains the choice and its measurements). A sequence, not a counter row:
-- nextval and setval are not transactional, so taking numbers never makes
-- two SERIALIZABLE issuers conflict, whereas a counter row updated in every
-- issuing transaction is a hot spot (the second updater waits, then fails
-- with 40001). CACHE 1: a session must not hold values of its own that a
-- setval could jump over.
CREATE SEQUENCE certificate_numbers AS bigint MINVALUE 1 START WITH 1 INCREMENT BY 1 CACHE 1 NO CYCLE;

-- reserve_certificate_numbers(n) reserves n consecutive numbers and returns
-- the first: nextval gives the first, setval skips the other n-1. The pair
-- is made atomic by an advisory lock that every caller takes (keys
-- 0x73756973, "suis", and the sequence's OID, so that schemas do not share
-- it). Transaction-scoped, that lock would be held until the caller's
-- transaction ends and serialise all issuance; so it is taken inside a
-- block that then raises on purpose: rolling back the block's
-- subtransaction releases the locks taken in it (as ROLLBACK TO SAVEPOINT
-- does) while the sequence keeps its advance. An error or a cancellation
-- inside the block rolls it back too, and a transaction-scoped lock ends
-- with its transaction at the latest, so it cannot leak. The lock is held
-- for a few microseconds; a reservation costs ≈3.6 µs in all against
-- ≈0.8 µs for a bare nextval.
-- +goose StatementBegin
CREATE FUNCTION reserve_certificate_numbers(n bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    first bigint;
BEGIN
    IF n IS NULL OR n < 1 THEN
        RAISE EXCEPTION 'reserve_certificate_numbers: n must be at least 1'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    BEGIN
        PERFORM pg_advisory_xact_lock(1937074547, 'certificate_numbers'::regclass::oid::integer);
        first := nextval('certificate_numbers');
        IF n > 1 THEN
            PERFORM setval('certificate_numbers', first + n - 1);
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'SU001'; -- undo the block: releases the lock, not the numbers
    EXCEPTION WHEN SQLSTATE 'SU001' THEN
        NULL;
    END;
    RETURN first;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION reserve_certificate_numbers(bigint);
DROP SEQUENCE certificate_numbers;
DROP TABLE status_lists;
DROP TABLE certificates;
DROP TABLE certificate_types;
