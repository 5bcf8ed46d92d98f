//! The service's Kubernetes namespace, made by `infra` through the cluster's Kubernetes API as
//! the cluster's creator (whom EKS makes its admin). A Namespace is cluster-scoped and no
//! namespace-scoped EKS access policy can create one; making it here is what lets the build role
//! have AmazonEKSEditPolicy in this namespace only.

use super::{cluster_now, wait_cluster_active};
use crate::kinds::{attrs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::kube::{Kube, KubeError, Namespace as KubeNamespace};
use crate::model::LogicalId;
use crate::retry::poll_until;
use crate::tags::Identity;
use anyhow::{bail, Result};
use aws_sdk_eks::types::ClusterStatus;
use std::collections::BTreeMap;
use std::time::Duration;

/// Kubernetes namespace.
pub struct Namespace;

attrs! {
    /// What the namespace is made of.
    pub struct NamespaceAttrs {
        /// The cluster it is in.
        cluster_name: String => ForceNew,
        /// Its name.
        name: String => ForceNew,
        /// Its labels: the Pod Security Standard it enforces and the ownership labels.
        labels: BTreeMap<String, String>,
    }
}

/// The label that makes a namespace the stack's (its value is the stack), as the `infra:stack`
/// tag does an AWS resource (a label key cannot hold `:`).
pub const STACK_LABEL: &str = "infra/stack";

/// Set by the API server on every namespace and immutable: not the stack's to manage.
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Kubernetes deletes everything in a namespace before the namespace: usually seconds, longer
/// while pods wait out their grace period.
const DELETE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The logical id of namespace `name`. The name is part of it, so that a namespace someone
/// else made under the configured name shows up as a conflict at the id the stack wants.
pub fn logical_id(name: &str) -> String {
    format!("k8s/namespace/{name}")
}

impl Resource for Namespace {
    type Attrs = NamespaceAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let Some(c) = snap.cluster().await? else {
            return Ok(Vec::new());
        };
        // The API serves once the cluster is ACTIVE, and through its updates. A cluster coming
        // up has no namespace of ours yet; one going takes its namespaces with it.
        if !matches!(
            c.status(),
            Some(ClusterStatus::Active | ClusterStatus::Updating)
        ) {
            return Ok(Vec::new());
        }
        let cluster = c.name().unwrap_or_default();
        let kube = Kube::for_cluster(snap.aws(), c)?;
        // Every namespace, not only the labelled ones: an unlabelled one under the configured
        // name is someone else's, in the way (the cluster is the stack's own, so this is bounded
        // by the stack, and it is one call).
        let found = kube
            .list_namespaces()
            .await?
            .into_iter()
            // Being deleted: as good as gone (create waits for it to go).
            .filter(|ns| !ns.terminating)
            .map(|ns| found(snap.stack(), cluster, &ns))
            .collect();
        Ok(found)
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let name = want.name.as_str();
        // A run killed while the cluster was CREATING leaves it so for the next run.
        let cluster = wait_cluster_active(cx, &want.cluster_name).await?;
        let kube = Kube::for_cluster(cx.aws, &cluster)?;
        // Each round either ends or waits out something that ends (a deletion in progress).
        for _ in 0..3 {
            match kube.create_namespace(name, &want.labels).await {
                Ok(ns) => return Ok(outputs(&ns)),
                Err(KubeError::AlreadyExists(_)) => {}
                Err(e) => return Err(e.into()),
            }
            // Taken: by a namespace still being deleted, by an interrupted run of ours, or
            // by someone else.
            match kube.get_namespace(name).await? {
                None => continue, // deleted in between
                Some(ns) if ns.terminating => wait_gone(cx, &kube, name).await?,
                Some(ns) if !owned_by(&ns, want) => bail!(
                    "namespace {name} already exists in cluster {} and is not this stack's \
                     (no label {STACK_LABEL}={}): infra does not take over what it did not \
                     make. To hand it to the stack: kubectl label --overwrite namespace {name} {}",
                    want.cluster_name,
                    want.labels
                        .get(STACK_LABEL)
                        .map(String::as_str)
                        .unwrap_or(""),
                    label_args(&want.labels),
                ),
                Some(ns) => {
                    let patch = label_patch(&observed_labels(&ns), &want.labels);
                    if patch.is_empty() {
                        return Ok(outputs(&ns));
                    }
                    let ns = kube.patch_namespace_labels(name, &patch).await?;
                    return Ok(outputs(&ns));
                }
            }
        }
        bail!("namespace {name} kept reappearing while infra created it; run apply again")
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let cluster = wait_cluster_active(cx, &c.want.cluster_name).await?;
        let kube = Kube::for_cluster(cx.aws, &cluster)?;
        let patch = label_patch(&c.have.labels, &c.want.labels);
        let ns = kube.patch_namespace_labels(&c.want.name, &patch).await?;
        Ok(outputs(&ns))
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let have = &c.attrs;
        // A cluster that is gone, or going, takes its namespaces with it.
        let Some(cluster) = cluster_now(cx.aws, &have.cluster_name).await? else {
            return Ok(());
        };
        if cluster.status() == Some(&ClusterStatus::Deleting) {
            return Ok(());
        }
        let kube = Kube::for_cluster(cx.aws, &cluster)?;
        match kube.delete_namespace(&have.name).await {
            // Conflict: already being deleted; wait like for our own deletion.
            Ok(()) | Err(KubeError::Conflict(_)) => {}
            Err(KubeError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        wait_gone(cx, &kube, &have.name).await
    }
}

/// Waits until namespace `name` is gone (Kubernetes empties it first).
async fn wait_gone(cx: &StepCtx<'_>, kube: &Kube, name: &str) -> Result<()> {
    cx.note(&format!("waiting for namespace {name} to be deleted"));
    let what = format!(
        "namespace {name} to be deleted (one stuck Terminating is usually waiting on a \
         finalizer whose controller is gone: kubectl get namespace {name} -o yaml shows which)"
    );
    poll_until(&what, DELETE_TIMEOUT, || async {
        Ok(kube.get_namespace(name).await?.is_none().then_some(()))
    })
    .await
}

/// A namespace as observe reports it: the stack's when it carries the stack's label.
fn found(stack: &str, cluster: &str, ns: &KubeNamespace) -> Found<NamespaceAttrs> {
    let owned = ns.labels.get(STACK_LABEL).map(String::as_str) == Some(stack);
    let who = Identity {
        id: LogicalId::new(logical_id(&ns.name)),
        owned,
    };
    Found::identified(who, ns.name.clone(), attrs_of(cluster, ns)).output("uid", ns.uid.clone())
}

/// True when `ns` carries the stack label `want` asks for.
fn owned_by(ns: &KubeNamespace, want: &NamespaceAttrs) -> bool {
    let stack = want.labels.get(STACK_LABEL);
    stack.is_some() && ns.labels.get(STACK_LABEL) == stack
}

/// `key=value ...` of `labels`, for a kubectl command line.
fn label_args(labels: &BTreeMap<String, String>) -> String {
    let args: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    args.join(" ")
}

/// The outputs of a namespace the API answered with.
fn outputs(ns: &KubeNamespace) -> Outputs {
    Outputs::from([
        ("id".to_string(), ns.name.clone()),
        ("uid".to_string(), ns.uid.clone()),
    ])
}

/// The labels the stack manages: all but the API server's own.
fn observed_labels(ns: &KubeNamespace) -> BTreeMap<String, String> {
    let mut labels = ns.labels.clone();
    labels.remove(NAME_LABEL);
    labels
}

/// The merge patch from `have` to `want`: every wanted label, and `null` for the others.
fn label_patch(
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> BTreeMap<String, Option<String>> {
    let set = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), Some(v.clone())));
    let remove = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .map(|k| (k.clone(), None));
    set.chain(remove).collect()
}

/// The namespace's attributes, from the API's view of it.
fn attrs_of(cluster: &str, ns: &KubeNamespace) -> NamespaceAttrs {
    NamespaceAttrs {
        cluster_name: cluster.to_string(),
        name: ns.name.clone(),
        labels: observed_labels(ns),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;

    /// GET /api/v1/namespaces/grpc-app on a cluster `infra` applied (EKS 1.31).
    const RECORDED: &str = r#"{
      "kind": "Namespace",
      "apiVersion": "v1",
      "metadata": {
        "name": "grpc-app",
        "uid": "5f0c2a8e-2b0e-4d3c-9a51-6c1d2a7f9b10",
        "resourceVersion": "48213",
        "creationTimestamp": "2025-05-12T09:41:07Z",
        "labels": {
          "app.kubernetes.io/managed-by": "infra",
          "infra/stack": "grpc-eks",
          "kubernetes.io/metadata.name": "grpc-app",
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest"
        },
        "managedFields": [{"manager": "infra", "operation": "Update", "apiVersion": "v1"}]
      },
      "spec": {"finalizers": ["kubernetes"]},
      "status": {"phase": "Active"}
    }"#;

    fn recorded() -> KubeNamespace {
        KubeNamespace::from_json(RECORDED.as_bytes()).expect("recorded namespace parses")
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: NamespaceAttrs = desired(&logical_id("grpc-app"));
        assert_eq!(attrs_of("eks/cluster.name", &recorded()), want);
    }

    #[test]
    fn the_stack_label_decides_ownership_and_the_name_the_id() {
        let ns = recorded();
        let f = found("grpc-eks", "grpc-eks", &ns);
        assert_eq!(f.id, LogicalId::new("k8s/namespace/grpc-app"));
        assert!(!f.unowned);
        assert_eq!(f.outputs["uid"], ns.uid);
        let theirs = found("other", "grpc-eks", &ns);
        assert!(theirs.unowned, "another stack's label is not ours");
        let mut bare = ns.clone();
        bare.labels.remove(STACK_LABEL);
        let bare = found("grpc-eks", "grpc-eks", &bare);
        assert!(bare.unowned);
        assert_eq!(
            bare.id,
            LogicalId::new("k8s/namespace/grpc-app"),
            "in the way of the stack's namespace: a conflict at its id"
        );
    }

    #[test]
    fn the_patch_sets_what_differs_and_removes_the_rest() {
        let have = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "x".to_string()),
            ("extra".to_string(), "e".to_string()),
        ]);
        let want = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
            ("c".to_string(), "3".to_string()),
        ]);
        let patch = label_patch(&have, &want);
        assert_eq!(
            patch,
            BTreeMap::from([
                ("b".to_string(), Some("2".to_string())),
                ("c".to_string(), Some("3".to_string())),
                ("extra".to_string(), None),
            ])
        );
        assert!(label_patch(&want, &want).is_empty());
        // As the API receives it: null removes a label.
        let json = serde_json::to_value(&patch).unwrap();
        assert_eq!(json["extra"], serde_json::Value::Null);
    }

    #[test]
    fn the_api_servers_own_label_is_not_managed() {
        assert!(!observed_labels(&recorded()).contains_key(NAME_LABEL));
    }
}
