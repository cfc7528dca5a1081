//! Backup jobs inside the panel's process, for webservers whose repository the panel itself reaches (a
//! one-machine setup and the demo): the agent's backup worker (`hostwerk_agent::program::backup_worker`)
//! with the panel's use cases as its job source instead of the agent API.

use hostwerk_agent::program::backup_worker::JobSource;
use hostwerk_protocol::backup::{AgentJob, AgentReport, FinishOutcome, HeartbeatOutcome};

/// Jobs straight from the panel's service layer, for webservers whose repository the panel itself reaches
/// (a one-machine setup and the demo).
pub struct LocalSource {
    pub state: hostwerk_web::AppState,
    pub node: hostwerk_store::Node,
    pub runtime: tokio::runtime::Handle,
}

impl JobSource for LocalSource {
    fn claim(&self) -> Result<Option<AgentJob>, String> {
        self.runtime.block_on(hostwerk_web::backups::claim(&self.state, &self.node)).map_err(|e| e.to_string())
    }
    fn heartbeat(&self, job: i64, attempt: i64) -> Result<HeartbeatOutcome, String> {
        self.runtime
            .block_on(hostwerk_web::backups::heartbeat(&self.state, &self.node, job, attempt))
            .map_err(|e| e.to_string())
    }
    fn finish(&self, job: i64, attempt: i64, report: &AgentReport) -> Result<FinishOutcome, String> {
        self.runtime
            .block_on(hostwerk_web::backups::finish(&self.state, &self.node, job, attempt, report))
            .map_err(|e| e.to_string())
    }
}
