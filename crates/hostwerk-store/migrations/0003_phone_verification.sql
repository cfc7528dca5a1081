-- Telephone verification: the failed-check counter per customer number (kept for unknown numbers too, so a
-- lock looks the same whether the number exists or not), temporary PINs, the log of checks, call contexts,
-- and what support did within a call.
CREATE TABLE phone_check_state (
    customer_number TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE phone_pins (
    customer_id BIGINT PRIMARY KEY REFERENCES customers(id),
    pin_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE phone_verifications (
    id {id},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    staff_id BIGINT NOT NULL REFERENCES staff_users(id),
    at BIGINT NOT NULL,
    verified BIGINT NOT NULL,
    method TEXT NOT NULL
);
CREATE INDEX phone_verifications_customer ON phone_verifications (customer_id, at);

CREATE TABLE call_contexts (
    id {id},
    staff_id BIGINT NOT NULL REFERENCES staff_users(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    verification_id BIGINT NOT NULL REFERENCES phone_verifications(id),
    opened_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    closed_at BIGINT
);
CREATE INDEX call_contexts_staff_customer ON call_contexts (staff_id, customer_id);

CREATE TABLE tariff_changes (
    id {id},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    from_tariff TEXT NOT NULL,
    to_tariff TEXT NOT NULL,
    new_monthly_price_cents BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    status TEXT NOT NULL,
    staff_id BIGINT REFERENCES staff_users(id),
    verification_id BIGINT REFERENCES phone_verifications(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX tariff_changes_customer ON tariff_changes (customer_id);

CREATE TABLE domain_orders (
    id {id},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    staff_id BIGINT REFERENCES staff_users(id),
    verification_id BIGINT REFERENCES phone_verifications(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX domain_orders_customer ON domain_orders (customer_id);
CREATE INDEX domain_orders_name ON domain_orders (name);

CREATE TABLE auth_code_disclosures (
    id {id},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    domain_id BIGINT NOT NULL REFERENCES domains(id),
    domain_name TEXT NOT NULL,
    staff_id BIGINT NOT NULL REFERENCES staff_users(id),
    verification_id BIGINT NOT NULL REFERENCES phone_verifications(id),
    reason TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX auth_code_disclosures_customer ON auth_code_disclosures (customer_id, at);
