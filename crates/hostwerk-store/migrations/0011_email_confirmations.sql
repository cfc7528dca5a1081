-- Links that prove control of an e-mail address before it is used (issue 17): an order becomes a customer, and
-- a new address replaces the old one, only when the link mailed to that address is opened. `payload` holds
-- what the confirmation carries out (the validated order as JSON, with password hashes only); `email_norm`
-- the address in lower case.
CREATE TABLE email_confirmations (
    token_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    customer_id BIGINT REFERENCES customers(id),
    email_norm TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_confirmations_customer ON email_confirmations (customer_id);
