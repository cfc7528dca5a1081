//! Server configuration's use cases: the wall-clock process limit per contract (which the customer may change
//! only where the tariff allows), its history and the log of processes the node agent ended; and the agent's
//! side — the limits of a node's contracts and the kills it reports.

use hostwerk_domain::AuditAction;
use hostwerk_domain::ProcessLimit;
use hostwerk_store::{
    Actor, Contract, Customer, NewProcessKill, Node, NodeLimit, ProcessKill, ProcessLimitChange, StaffUser,
};

use crate::service::ServiceError;
use crate::AppState;

/// One contract's process-limit page.
#[derive(Debug, Clone)]
pub struct ContractLimit {
    pub contract: Contract,
    /// Whether the tariff lets the customer change the limit.
    pub adjustable: bool,
    /// The tariff's default (the fixed value where not adjustable).
    pub default: ProcessLimit,
    pub changes: Vec<ProcessLimitChange>,
    pub kills: Vec<ProcessKill>,
}

/// Every contract of the customer with its limit, history and kill log.
pub async fn contract_limits(state: &AppState, customer: &Customer) -> Result<Vec<ContractLimit>, ServiceError> {
    let mut out = Vec::new();
    for contract in state.store.contracts(customer.id).await? {
        out.push(contract_limit(state, customer, contract).await?);
    }
    Ok(out)
}

async fn contract_limit(
    state: &AppState,
    customer: &Customer,
    contract: Contract,
) -> Result<ContractLimit, ServiceError> {
    let tariff = state.store.tariff(&contract.tariff_id).await?;
    Ok(ContractLimit {
        adjustable: tariff.process_limit.customer_adjustable,
        default: tariff.process_limit.default,
        changes: state.store.process_limit_changes(customer.id, contract.id).await?,
        kills: state.store.process_kills(customer.id, contract.id, 200).await?,
        contract,
    })
}

/// One contract's limit, history and kill log.
pub async fn one_contract_limit(
    state: &AppState,
    customer: &Customer,
    contract_id: i64,
) -> Result<ContractLimit, ServiceError> {
    let contract = state.store.contract(customer.id, contract_id).await?;
    contract_limit(state, customer, contract).await
}

/// The customer sets a contract's limit: `off` or 180–43200 seconds, only where the tariff allows it.
pub async fn set_limit(
    state: &AppState,
    customer: &Customer,
    contract_id: i64,
    input: &str,
) -> Result<ProcessLimit, ServiceError> {
    let contract = state.store.contract(customer.id, contract_id).await?;
    let tariff = state.store.tariff(&contract.tariff_id).await?;
    if !tariff.process_limit.customer_adjustable {
        return Err(ServiceError::Forbidden);
    }
    let limit = ProcessLimit::parse(input).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let actor = Actor::customer(customer);
    let old = state.store.set_process_limit(customer.id, contract.id, limit, &actor).await?;
    state
        .store
        .audit(
            &actor,
            AuditAction::ContractProcessLimitChanged,
            contract.system_user.as_str(),
            &format!("{old} -> {limit}"),
        )
        .await?;
    Ok(limit)
}

/// The limits an agent enforces on its node.
pub async fn node_limits(state: &AppState, node: &Node) -> Result<Vec<NodeLimit>, ServiceError> {
    Ok(state.store.node_limits(node.id).await?)
}

/// Records the kills an agent reports; returns how many belonged to contracts on its node.
pub async fn record_kills(state: &AppState, node: &Node, kills: &[NewProcessKill<'_>]) -> Result<u64, ServiceError> {
    if kills.len() > 10_000 {
        return Err(ServiceError::Invalid("at most 10000 reports per request".into()));
    }
    Ok(state.store.record_process_kills(node.id, kills).await?)
}

/// Admin issues a new agent token for a webserver (earlier ones stop working).
pub async fn issue_node_token(state: &AppState, staff: &StaffUser, node_id: i64) -> Result<String, ServiceError> {
    crate::service::admin_only(staff)?;
    let token = state.store.issue_node_token(node_id).await?;
    state.store.audit(&Actor::staff(staff), AuditAction::NodeTokenIssued, &format!("node #{node_id}"), "").await?;
    Ok(token)
}
