//! CloudWatch Logs kinds. Their reads (the stack's log groups by exact name, with their tags)
//! come from the snapshot.

pub mod log_group;
