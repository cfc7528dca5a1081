-- A second factor (TOTP, RFC 6238) per account, customer or staff (issue 17, item 5). `kind` and `subject_id`
-- name the account as in `sessions`. `secret` is the shared secret in base32: the panel needs it to compute
-- the codes it compares, so it cannot be hashed; there is no secret-at-rest encryption in hostwerk, it is
-- stored as is. `enrolled_at` is NULL while an enrolment is shown but not yet confirmed with a code;
-- `last_step` is the time step (Unix time / 30) of the last code accepted: a code of that step or an earlier
-- one is refused, so a code works once.
CREATE TABLE second_factors (
    kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    enrolled_at BIGINT,
    last_step BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, subject_id)
);

-- Single-use recovery codes: SHA-256 of 128 random bits, shown once at enrolment.
CREATE TABLE recovery_codes (
    id {id},
    kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX recovery_codes_subject ON recovery_codes (kind, subject_id);

-- A login whose password was right and that waits for its second factor: no session yet. The browser holds
-- the raw token (a cookie, minutes long); `next_path` and `resume_form` carry where the login leads.
CREATE TABLE pending_logins (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    next_path TEXT,
    resume_form TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
