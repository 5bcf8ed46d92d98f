//! codebuild kinds.

pub mod project;
