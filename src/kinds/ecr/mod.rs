//! ecr kinds.

pub mod repository;
