-- Customer service: cases (support or management queue) with their timeline, management's proposals in the
-- guarantee loop, the customer's ledger (credit notes, refunds), refund records, and remote-support sessions.
CREATE TABLE cases (
    id {id},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    channel TEXT NOT NULL,
    category TEXT NOT NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    assigned_staff_id BIGINT REFERENCES staff_users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    first_response_at BIGINT,
    solved_at BIGINT
);
CREATE INDEX cases_customer ON cases (customer_id, updated_at);
CREATE INDEX cases_queue ON cases (channel, status, updated_at);

-- kind: customer_message, staff_message, internal_note, status, assigned, proposal, proposal_accepted,
-- proposal_declined, proposal_withdrawn. Internal notes have visible = 0 and never reach the customer.
CREATE TABLE case_events (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    author_kind TEXT NOT NULL,
    author_name TEXT NOT NULL,
    body TEXT NOT NULL,
    visible BIGINT NOT NULL,
    proposal_id BIGINT
);
CREATE INDEX case_events_case ON case_events (case_id, id);

CREATE TABLE proposals (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    amount_cents BIGINT,
    months BIGINT,
    contract_id BIGINT REFERENCES contracts(id),
    tariff_id TEXT,
    last_day TEXT,
    staff_id BIGINT NOT NULL REFERENCES staff_users(id),
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    free_month BIGINT
);
CREATE INDEX proposals_case ON proposals (case_id);

-- amount_cents > 0 is owed to the customer (credit note, refund).
CREATE TABLE ledger_entries (
    id {id},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    contract_id BIGINT REFERENCES contracts(id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    text TEXT NOT NULL,
    case_id BIGINT REFERENCES cases(id)
);
CREATE INDEX ledger_customer ON ledger_entries (customer_id, at);

CREATE TABLE refunds (
    id {id},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    amount_cents BIGINT NOT NULL,
    refunded_days BIGINT NOT NULL,
    last_paid_day TEXT NOT NULL,
    last_service_day TEXT NOT NULL,
    free_month BIGINT NOT NULL,
    status TEXT NOT NULL,
    ledger_entry_id BIGINT NOT NULL REFERENCES ledger_entries(id),
    case_id BIGINT REFERENCES cases(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX refunds_customer ON refunds (customer_id);

CREATE TABLE remote_sessions (
    id {id},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    staff_id BIGINT NOT NULL REFERENCES staff_users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    consented_at BIGINT,
    detected_os TEXT,
    started_at BIGINT,
    ended_at BIGINT,
    note TEXT NOT NULL
);
CREATE INDEX remote_sessions_customer ON remote_sessions (customer_id);
CREATE UNIQUE INDEX proposals_one_open ON proposals (case_id) WHERE status = 'open';
