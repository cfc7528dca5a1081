//! Remote support's use cases: staff invite a verified caller (e-mail with a link valid a day), the link's
//! page detects the visitor's operating system and offers the provider's tool, the customer confirms consent,
//! and staff record start, end and a note. Nobody gets access unless the customer starts the tool and
//! passes on its session code; hostwerk only keeps the record.

use hostwerk_domain::remote_support::ClientOs;
use hostwerk_domain::AuditAction;
use hostwerk_store::token::new_token;
use hostwerk_store::{Actor, Customer, RemoteSession, RemoteStep, StaffUser};

use crate::i18n::t;
use crate::service::ServiceError;
use crate::AppState;

/// Invites the customer of the staff member's verified call; returns the session id.
pub async fn invite(state: &AppState, staff: &StaffUser, number: &str) -> Result<i64, ServiceError> {
    let (customer, call) = crate::phone::require_call(state, staff, number).await?;
    let token = new_token();
    let hours = state.config.remote_support.invitation_hours.clamp(1, 168);
    let id = state.store.create_remote_session(customer.id, staff.id, &token.hash, hours * 3600).await?;
    let link = format!("{}/remote/{}", state.config.public_url, token.raw);
    let lang = customer.language;
    let body = t(lang, "mail.remote_invite.body")
        .replace("{staff}", &staff.display_name)
        .replace("{tool}", &state.config.remote_support.tool_name)
        .replace("{hours}", &hours.to_string());
    let subject = t(lang, "mail.remote_invite.subject");
    state
        .mailer
        .send_secret(customer.email.as_str(), lang, &subject, &format!("{body}\n\n{link}\n"), &token.raw)
        .await?;
    state
        .store
        .audit(
            &Actor::staff(staff),
            AuditAction::RemoteInvited,
            &customer.number.to_string(),
            &format!("verification #{}: session #{id}", call.verification_id),
        )
        .await?;
    Ok(id)
}

/// What the invitation page shows: the session, the detected system, and every download.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub session: RemoteSession,
    pub detected: Option<ClientOs>,
}

/// The invitation behind a link, while it is valid.
pub async fn invitation(state: &AppState, raw: &str, user_agent: &str) -> Result<Invitation, ServiceError> {
    let session = state.store.remote_session_by_token(raw).await?;
    Ok(Invitation { session, detected: ClientOs::detect(user_agent) })
}

/// The customer confirms consent on the invitation page.
pub async fn consent(state: &AppState, raw: &str, user_agent: &str) -> Result<Invitation, ServiceError> {
    let detected = ClientOs::detect(user_agent);
    let before = state.store.remote_session_by_token(raw).await?;
    let session = state.store.consent_remote_session(raw, detected.map(ClientOs::as_str)).await?;
    if before.consented_at.is_none() {
        state
            .store
            .audit(
                &Actor::system("remote-support link"),
                AuditAction::RemoteConsented,
                &session.customer_number.to_string(),
                &format!("session #{}", session.id),
            )
            .await?;
    }
    Ok(Invitation { session, detected })
}

/// Staff record the start or the end (with a note) of a session they invited to.
pub async fn record(state: &AppState, staff: &StaffUser, id: i64, step: RemoteStep<'_>) -> Result<(), ServiceError> {
    if let RemoteStep::End { note } = step {
        if note.chars().count() > 2000 {
            return Err(ServiceError::Invalid("the note must be at most 2000 characters long".into()));
        }
    }
    state.store.record_remote_step(staff.id, id, step).await?;
    let action = match step {
        RemoteStep::Start => AuditAction::RemoteStarted,
        RemoteStep::End { .. } => AuditAction::RemoteEnded,
    };
    state.store.audit(&Actor::staff(staff), action, &format!("session #{id}"), "").await?;
    Ok(())
}

/// The sessions a staff member invited to.
pub async fn staff_sessions(state: &AppState, staff: &StaffUser) -> Result<Vec<RemoteSession>, ServiceError> {
    Ok(state.store.staff_remote_sessions(staff.id).await?)
}

/// The customer's sessions.
pub async fn customer_sessions(state: &AppState, customer: &Customer) -> Result<Vec<RemoteSession>, ServiceError> {
    Ok(state.store.customer_remote_sessions(customer.id).await?)
}
