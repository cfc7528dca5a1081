//! What the audit log records: every action a customer, staff member or the system takes on customer data or
//! the platform, as one enum. The stored name (`as_str`, e.g. `mailbox.created`) is what the staff console
//! shows and what earlier entries hold; a new event is a new variant, so no call site can misspell one.

use std::fmt;

/// An audited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuditAction {
    /// `advisory.published`
    AdvisoryPublished,
    /// `backup.maintenance_executed`
    BackupMaintenanceExecuted,
    /// `backup.maintenance_planned`
    BackupMaintenancePlanned,
    /// `backup.on_demand_requested`
    BackupOnDemandRequested,
    /// `backup.restore_ordered_by_staff`
    BackupRestoreOrderedByStaff,
    /// `backup.restore_requested`
    BackupRestoreRequested,
    /// `blog.published`
    BlogPublished,
    /// `case.assigned`
    CaseAssigned,
    /// `case.note`
    CaseNote,
    /// `case.opened`
    CaseOpened,
    /// `case.replied`
    CaseReplied,
    /// `case.status`
    CaseStatus,
    /// `comment.approved`
    CommentApproved,
    /// `comment.rejected`
    CommentRejected,
    /// `contract.database_added`
    ContractDatabaseAdded,
    /// `contract.process_limit_changed`
    ContractProcessLimitChanged,
    /// `customer.email_change_requested`
    CustomerEmailChangeRequested,
    /// `customer.login`
    CustomerLogin,
    /// `customer.password_changed`
    CustomerPasswordChanged,
    /// `customer.password_reset`
    CustomerPasswordReset,
    /// `customer.phone_password_changed`
    CustomerPhonePasswordChanged,
    /// `customer.phone_pin_created`
    CustomerPhonePinCreated,
    /// `customer.phone_pin_invalidated`
    CustomerPhonePinInvalidated,
    /// `customer.profile_changed`
    CustomerProfileChanged,
    /// `customer.reset_requested`
    CustomerResetRequested,
    /// `demo.login_disabled`
    DemoLoginDisabled,
    /// `domain.requested`
    DomainRequested,
    /// `domain_order.completed`
    DomainOrderCompleted,
    /// `domain_order.rejected`
    DomainOrderRejected,
    /// `giveaway.created`
    GiveawayCreated,
    /// `giveaway.drawn`
    GiveawayDrawn,
    /// `mailbox.created`
    MailboxCreated,
    /// `mailbox.deleted`
    MailboxDeleted,
    /// `node.backup_server_set`
    NodeBackupServerSet,
    /// `node.contracts_moved`
    NodeContractsMoved,
    /// `node.created`
    NodeCreated,
    /// `node.deleted`
    NodeDeleted,
    /// `node.token_issued`
    NodeTokenIssued,
    /// `order.placed`
    OrderPlaced,
    /// `phone.account_viewed`
    PhoneAccountViewed,
    /// `phone.auth_code_disclosed`
    PhoneAuthCodeDisclosed,
    /// `phone.call_closed`
    PhoneCallClosed,
    /// `phone.check_failed`
    PhoneCheckFailed,
    /// `phone.domain_ordered`
    PhoneDomainOrdered,
    /// `phone.second_factor_reset`
    PhoneSecondFactorReset,
    /// `phone.tariff_change_scheduled`
    PhoneTariffChangeScheduled,
    /// `phone.verified`
    PhoneVerified,
    /// `proposal.accepted`
    ProposalAccepted,
    /// `proposal.declined`
    ProposalDeclined,
    /// `proposal.made`
    ProposalMade,
    /// `proposal.withdrawn`
    ProposalWithdrawn,
    /// `remote.consented`
    RemoteConsented,
    /// `remote.ended`
    RemoteEnded,
    /// `remote.invited`
    RemoteInvited,
    /// `remote.started`
    RemoteStarted,
    /// `second_factor.disabled`
    SecondFactorDisabled,
    /// `second_factor.enrolled`
    SecondFactorEnrolled,
    /// `second_factor.recovery_code_used`
    SecondFactorRecoveryCodeUsed,
    /// `second_factor.recovery_codes_renewed`
    SecondFactorRecoveryCodesRenewed,
    /// `staff.created`
    StaffCreated,
    /// `staff.customer_lookup`
    StaffCustomerLookup,
    /// `staff.customer_search`
    StaffCustomerSearch,
    /// `staff.disabled`
    StaffDisabled,
    /// `staff.enabled`
    StaffEnabled,
    /// `staff.login`
    StaffLogin,
    /// `staff.password_reset`
    StaffPasswordReset,
    /// `staff.role_changed`
    StaffRoleChanged,
    /// `staff.second_factor_reset`
    StaffSecondFactorReset,
    /// `tariff.created`
    TariffCreated,
    /// `tariff.updated`
    TariffUpdated,
}

impl AuditAction {
    /// Every action, in the order of their names.
    pub const ALL: [AuditAction; 70] = [
        Self::AdvisoryPublished,
        Self::BackupMaintenanceExecuted,
        Self::BackupMaintenancePlanned,
        Self::BackupOnDemandRequested,
        Self::BackupRestoreOrderedByStaff,
        Self::BackupRestoreRequested,
        Self::BlogPublished,
        Self::CaseAssigned,
        Self::CaseNote,
        Self::CaseOpened,
        Self::CaseReplied,
        Self::CaseStatus,
        Self::CommentApproved,
        Self::CommentRejected,
        Self::ContractDatabaseAdded,
        Self::ContractProcessLimitChanged,
        Self::CustomerEmailChangeRequested,
        Self::CustomerLogin,
        Self::CustomerPasswordChanged,
        Self::CustomerPasswordReset,
        Self::CustomerPhonePasswordChanged,
        Self::CustomerPhonePinCreated,
        Self::CustomerPhonePinInvalidated,
        Self::CustomerProfileChanged,
        Self::CustomerResetRequested,
        Self::DemoLoginDisabled,
        Self::DomainRequested,
        Self::DomainOrderCompleted,
        Self::DomainOrderRejected,
        Self::GiveawayCreated,
        Self::GiveawayDrawn,
        Self::MailboxCreated,
        Self::MailboxDeleted,
        Self::NodeBackupServerSet,
        Self::NodeContractsMoved,
        Self::NodeCreated,
        Self::NodeDeleted,
        Self::NodeTokenIssued,
        Self::OrderPlaced,
        Self::PhoneAccountViewed,
        Self::PhoneAuthCodeDisclosed,
        Self::PhoneCallClosed,
        Self::PhoneCheckFailed,
        Self::PhoneDomainOrdered,
        Self::PhoneSecondFactorReset,
        Self::PhoneTariffChangeScheduled,
        Self::PhoneVerified,
        Self::ProposalAccepted,
        Self::ProposalDeclined,
        Self::ProposalMade,
        Self::ProposalWithdrawn,
        Self::RemoteConsented,
        Self::RemoteEnded,
        Self::RemoteInvited,
        Self::RemoteStarted,
        Self::SecondFactorDisabled,
        Self::SecondFactorEnrolled,
        Self::SecondFactorRecoveryCodeUsed,
        Self::SecondFactorRecoveryCodesRenewed,
        Self::StaffCreated,
        Self::StaffCustomerLookup,
        Self::StaffCustomerSearch,
        Self::StaffDisabled,
        Self::StaffEnabled,
        Self::StaffLogin,
        Self::StaffPasswordReset,
        Self::StaffRoleChanged,
        Self::StaffSecondFactorReset,
        Self::TariffCreated,
        Self::TariffUpdated,
    ];

    /// The name stored in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AdvisoryPublished => "advisory.published",
            Self::BackupMaintenanceExecuted => "backup.maintenance_executed",
            Self::BackupMaintenancePlanned => "backup.maintenance_planned",
            Self::BackupOnDemandRequested => "backup.on_demand_requested",
            Self::BackupRestoreOrderedByStaff => "backup.restore_ordered_by_staff",
            Self::BackupRestoreRequested => "backup.restore_requested",
            Self::BlogPublished => "blog.published",
            Self::CaseAssigned => "case.assigned",
            Self::CaseNote => "case.note",
            Self::CaseOpened => "case.opened",
            Self::CaseReplied => "case.replied",
            Self::CaseStatus => "case.status",
            Self::CommentApproved => "comment.approved",
            Self::CommentRejected => "comment.rejected",
            Self::ContractDatabaseAdded => "contract.database_added",
            Self::ContractProcessLimitChanged => "contract.process_limit_changed",
            Self::CustomerEmailChangeRequested => "customer.email_change_requested",
            Self::CustomerLogin => "customer.login",
            Self::CustomerPasswordChanged => "customer.password_changed",
            Self::CustomerPasswordReset => "customer.password_reset",
            Self::CustomerPhonePasswordChanged => "customer.phone_password_changed",
            Self::CustomerPhonePinCreated => "customer.phone_pin_created",
            Self::CustomerPhonePinInvalidated => "customer.phone_pin_invalidated",
            Self::CustomerProfileChanged => "customer.profile_changed",
            Self::CustomerResetRequested => "customer.reset_requested",
            Self::DemoLoginDisabled => "demo.login_disabled",
            Self::DomainRequested => "domain.requested",
            Self::DomainOrderCompleted => "domain_order.completed",
            Self::DomainOrderRejected => "domain_order.rejected",
            Self::GiveawayCreated => "giveaway.created",
            Self::GiveawayDrawn => "giveaway.drawn",
            Self::MailboxCreated => "mailbox.created",
            Self::MailboxDeleted => "mailbox.deleted",
            Self::NodeBackupServerSet => "node.backup_server_set",
            Self::NodeContractsMoved => "node.contracts_moved",
            Self::NodeCreated => "node.created",
            Self::NodeDeleted => "node.deleted",
            Self::NodeTokenIssued => "node.token_issued",
            Self::OrderPlaced => "order.placed",
            Self::PhoneAccountViewed => "phone.account_viewed",
            Self::PhoneAuthCodeDisclosed => "phone.auth_code_disclosed",
            Self::PhoneCallClosed => "phone.call_closed",
            Self::PhoneCheckFailed => "phone.check_failed",
            Self::PhoneDomainOrdered => "phone.domain_ordered",
            Self::PhoneSecondFactorReset => "phone.second_factor_reset",
            Self::PhoneTariffChangeScheduled => "phone.tariff_change_scheduled",
            Self::PhoneVerified => "phone.verified",
            Self::ProposalAccepted => "proposal.accepted",
            Self::ProposalDeclined => "proposal.declined",
            Self::ProposalMade => "proposal.made",
            Self::ProposalWithdrawn => "proposal.withdrawn",
            Self::RemoteConsented => "remote.consented",
            Self::RemoteEnded => "remote.ended",
            Self::RemoteInvited => "remote.invited",
            Self::RemoteStarted => "remote.started",
            Self::SecondFactorDisabled => "second_factor.disabled",
            Self::SecondFactorEnrolled => "second_factor.enrolled",
            Self::SecondFactorRecoveryCodeUsed => "second_factor.recovery_code_used",
            Self::SecondFactorRecoveryCodesRenewed => "second_factor.recovery_codes_renewed",
            Self::StaffCreated => "staff.created",
            Self::StaffCustomerLookup => "staff.customer_lookup",
            Self::StaffCustomerSearch => "staff.customer_search",
            Self::StaffDisabled => "staff.disabled",
            Self::StaffEnabled => "staff.enabled",
            Self::StaffLogin => "staff.login",
            Self::StaffPasswordReset => "staff.password_reset",
            Self::StaffRoleChanged => "staff.role_changed",
            Self::StaffSecondFactorReset => "staff.second_factor_reset",
            Self::TariffCreated => "tariff.created",
            Self::TariffUpdated => "tariff.updated",
        }
    }

    /// The action of a stored name.
    pub fn parse(name: &str) -> Option<AuditAction> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut names: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditAction::ALL.len());
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
            let (area, what) = a.as_str().split_once('.').unwrap_or_default();
            assert!(!area.is_empty() && !what.is_empty(), "{a}: area.event");
        }
        assert_eq!(AuditAction::parse("mailbox.exploded"), None);
    }
}
