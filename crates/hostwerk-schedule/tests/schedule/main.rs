//! The scheduler's integration tests, one binary: properties, scheduling rules and the fleet simulator.

mod properties;
mod scheduler;
mod sim;
