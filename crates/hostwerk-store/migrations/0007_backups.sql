-- Backups: each webserver's assigned backup server, the job queue the agents work off (nightly, on-demand,
-- restores), the snapshots they reported, the contracts' databases, and the retention maintenance plans.
ALTER TABLE nodes ADD COLUMN backup_server_id BIGINT REFERENCES nodes(id);
ALTER TABLE nodes ADD COLUMN agent_seen_at BIGINT;

CREATE TABLE backup_jobs (
    id {id},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    node_id BIGINT NOT NULL REFERENCES nodes(id),
    backup_server_id BIGINT REFERENCES nodes(id),
    kind TEXT NOT NULL,
    priority BIGINT NOT NULL,
    night TEXT,
    deadline BIGINT,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    requested_by_kind TEXT NOT NULL,
    requested_by_name TEXT NOT NULL,
    estimate_seconds BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    heartbeat_at BIGINT,
    finished_at BIGINT,
    result TEXT,
    error TEXT
);
CREATE UNIQUE INDEX backup_jobs_one_nightly ON backup_jobs (contract_id, night);
CREATE INDEX backup_jobs_queue ON backup_jobs (status, node_id, priority, id);
CREATE INDEX backup_jobs_server ON backup_jobs (status, backup_server_id);
CREATE INDEX backup_jobs_contract ON backup_jobs (contract_id, id);

CREATE TABLE backup_snapshots (
    id {id},
    node_id BIGINT NOT NULL REFERENCES nodes(id),
    snapshot_id TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    job_id BIGINT REFERENCES backup_jobs(id),
    kind TEXT NOT NULL,
    part TEXT NOT NULL,
    taken_at BIGINT NOT NULL,
    total_files BIGINT NOT NULL,
    total_bytes BIGINT NOT NULL,
    bytes_added BIGINT NOT NULL,
    forgotten_at BIGINT,
    UNIQUE (node_id, snapshot_id)
);
CREATE INDEX backup_snapshots_contract ON backup_snapshots (contract_id, taken_at);

CREATE TABLE contract_databases (
    id {id},
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX contract_databases_contract ON contract_databases (contract_id);

CREATE TABLE backup_maintenance (
    id {id},
    node_id BIGINT NOT NULL REFERENCES nodes(id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    plan TEXT NOT NULL,
    executed_at BIGINT,
    executed_by TEXT,
    result TEXT
);
