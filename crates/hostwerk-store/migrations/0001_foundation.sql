-- hostwerk schema v1. Portable SQL for SQLite and PostgreSQL; {id} is the auto-increment primary key.
-- Times are Unix seconds (BIGINT, UTC); calendar dates are ISO text (YYYY-MM-DD); flags are 0/1 BIGINT.

CREATE TABLE tariffs (
    id TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    definition TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE nodes (
    id {id},
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE customers (
    id {id},
    number TEXT NOT NULL UNIQUE,
    number_seq BIGINT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    email_norm TEXT NOT NULL UNIQUE,
    street TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    city TEXT NOT NULL,
    country TEXT NOT NULL,
    language TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    phone_password_hash TEXT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE contracts (
    id {id},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    seq BIGINT NOT NULL,
    tariff_id TEXT NOT NULL REFERENCES tariffs(id),
    monthly_price_cents BIGINT NOT NULL,
    billing_months BIGINT NOT NULL,
    start_date TEXT NOT NULL,
    prepaid_until TEXT NOT NULL,
    minimum_term_months BIGINT NOT NULL,
    notice_period_days BIGINT NOT NULL,
    status TEXT NOT NULL,
    end_date TEXT,
    node_id BIGINT REFERENCES nodes(id),
    system_user TEXT NOT NULL UNIQUE,
    webspace_path TEXT NOT NULL,
    process_limit TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (customer_id, seq)
);
CREATE INDEX contracts_customer ON contracts (customer_id);

CREATE TABLE domains (
    id {id},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    name TEXT NOT NULL UNIQUE,
    auth_code TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX domains_customer ON domains (customer_id);

CREATE TABLE mailboxes (
    id {id},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    domain_id BIGINT NOT NULL REFERENCES domains(id),
    address TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX mailboxes_customer ON mailboxes (customer_id);

CREATE TABLE staff_users (
    id {id},
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_subject ON sessions (kind, subject_id);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX api_tokens_subject ON api_tokens (kind, subject_id);

CREATE TABLE password_reset_tokens (
    token_hash TEXT PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE outbox (
    id {id},
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);

CREATE TABLE audit_log (
    id {id},
    at BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_at ON audit_log (at);
