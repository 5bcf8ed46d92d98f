//! The Kubernetes API of the stack's cluster, as far as `infra` needs it: EKS bearer tokens made
//! as `aws eks get-token` makes them ([`token`]), and a client for namespaces ([`Kube`]). It
//! speaks HTTPS trusting only the cluster's own CA; plain http only to a loopback address (the
//! local emulator).

mod client;
mod token;

pub use client::{Kube, KubeError, Namespace};
