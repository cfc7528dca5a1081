-- The node agent: tokens per node (hashed), the history of process-limit changes, and the processes agents ended.
CREATE TABLE node_tokens (
    token_hash TEXT PRIMARY KEY,
    node_id BIGINT NOT NULL REFERENCES nodes(id),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX node_tokens_node ON node_tokens (node_id);

CREATE TABLE process_limit_changes (
    id {id},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    old_limit TEXT NOT NULL,
    new_limit TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX process_limit_changes_contract ON process_limit_changes (contract_id, id);

CREATE TABLE process_kills (
    id {id},
    node_id BIGINT NOT NULL REFERENCES nodes(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    system_user TEXT NOT NULL,
    pid BIGINT NOT NULL,
    comm TEXT NOT NULL,
    runtime_seconds BIGINT NOT NULL,
    signal TEXT NOT NULL,
    at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX process_kills_contract ON process_kills (contract_id, at);
