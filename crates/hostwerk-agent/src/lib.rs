//! hostwerk-agent: the core of the node agent that ends customer processes outliving their wall-clock limit.
//!
//! Processes of the system users (Unix users of contracts) listed in a [`policy::Policy`] are ended once their
//! wall-clock age passes the user's limit: SIGTERM first, SIGKILL after a grace period if the process is still
//! there. The [`enforcer::Enforcer`] drives this: each [`enforcer::Enforcer::tick`] runs one cheap pass over
//! `/proc` ([`scan::Scanner`]), signals overdue processes through pidfds after checking they are still the
//! processes that were scanned ([`signal::send_verified`]), and returns a [`report::KillReport`] for each
//! process it ended. [`enforcer::Enforcer::run`] is the thread-based loop the agent binary wraps.
//!
//! [`program`] is the agent program around it (`hostwerk agent`): the panel client, the state file, the
//! kill-report queue and the backup workers.
//!
//! Nothing here touches a process of an unlisted user, of root, or of a user whose limit is off.

pub mod clock;
pub mod enforcer;
pub mod jobs;
pub mod policy;
pub mod proc_stat;
pub mod proc_status;
mod procfs_io;
pub mod program;
pub mod report;
pub mod scan;
pub mod signal;

pub use clock::{ClockTicks, Now};
pub use enforcer::{Control, Enforcer, EnforcerError, DEFAULT_SCAN_INTERVAL};
pub use policy::{resolve_owner, resolve_user, EnforcedLimit, Policy, PolicyError, UserLimit, DEFAULT_GRACE};
pub use report::{KillReport, KillSignal};
pub use scan::{Candidate, ScanError, Scanner};
pub use signal::{send_verified, Mismatch, Outcome, SignalError, Target};
