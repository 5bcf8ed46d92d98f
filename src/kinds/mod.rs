//! Resource kinds: each knows how to observe, create, update and delete one kind of AWS
//! resource. The engine only sees the [`ResourceKind`] trait.

pub mod alb;
pub mod codebuild;
pub mod ecr;
pub mod eks;
pub mod iam;
pub mod network;

use crate::aws::Aws;
use crate::model::{Kind, LogicalId, Observed};
use crate::observe::Snapshot;
pub use crate::plan::AttrRule;
use crate::report::Reporter;
use anyhow::{anyhow, Result};
use async_trait::async_trait;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Values other resources can reference, `id` always among them.
pub type Outputs = BTreeMap<String, String>;

/// What a kind needs while it works on one resource.
pub struct StepCtx<'a> {
    /// AWS clients.
    pub aws: &'a Aws,
    /// The resource being worked on.
    pub id: &'a LogicalId,
    /// `destroy --force`: delete data-holding resources (an ECR repository with images) too.
    pub force: bool,
    /// Where progress notes go.
    pub reporter: &'a dyn Reporter,
}

impl StepCtx<'_> {
    /// Tells the user what the step is waiting for.
    pub fn note(&self, what: &str) {
        self.reporter.note(self.id, what);
    }
}

/// A desired spec with every reference resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spec(pub BTreeMap<String, Json>);

impl Spec {
    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.0.get(key)
    }

    /// A string attribute the kind requires.
    pub fn str(&self, key: &str) -> Result<&str> {
        self.get(key)
            .and_then(Json::as_str)
            .ok_or_else(|| anyhow!("spec has no string attribute {key:?}"))
    }

    /// A boolean attribute, false when absent.
    pub fn flag(&self, key: &str) -> bool {
        self.get(key).and_then(Json::as_bool).unwrap_or(false)
    }

    /// The `tags` map.
    pub fn tags(&self) -> BTreeMap<String, String> {
        json_tags(self.get("tags"))
    }
}

/// Reads a JSON object of strings as a tag map.
pub fn json_tags(v: Option<&Json>) -> BTreeMap<String, String> {
    v.and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The tag calls that bring a resource's tags from what was observed to what the spec wants.
#[derive(Debug, Default, PartialEq)]
pub struct TagDelta {
    /// Tags to add or overwrite.
    pub set: BTreeMap<String, String>,
    /// Keys to remove.
    pub remove: Vec<String>,
}

/// What differs between the observed `current` tags and the spec's.
pub fn tag_delta(current: Option<&Json>, spec: &Spec) -> TagDelta {
    let have = json_tags(current);
    let want = spec.tags();
    TagDelta {
        set: want
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        remove: have.into_keys().filter(|k| !want.contains_key(k)).collect(),
    }
}

/// One kind of AWS resource.
#[async_trait]
pub trait ResourceKind: Send + Sync {
    /// Attributes that cannot change in place: a change means replacement.
    fn force_new(&self) -> &'static [&'static str];

    /// Attributes used only by the create call and never compared afterwards (a role's
    /// initial trust policy, which a separate resource manages from then on).
    fn create_only(&self) -> &'static [&'static str] {
        &[]
    }

    /// Every resource of this kind the stack owns, read through `snap` (one call per kind).
    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>>;

    /// Creates the resource, tagged in the same call where AWS allows; returns its outputs.
    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs>;

    /// Changes the attributes named in `changed` in place.
    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        changed: &[String],
    ) -> Result<Outputs>;

    /// Deletes the resource and waits until AWS has let go of it; gone already is success.
    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()>;
}

/// The implementation of `kind`.
pub fn get(kind: Kind) -> &'static dyn ResourceKind {
    use network::*;
    match kind {
        Kind::Vpc => &vpc::Vpc,
        Kind::InternetGateway => &internet_gateway::InternetGateway,
        Kind::IgwAttachment => &igw_attachment::IgwAttachment,
        Kind::Subnet => &subnet::Subnet,
        Kind::RouteTable => &route_table::RouteTable,
        Kind::Route => &route::Route,
        Kind::RouteTableAssociation => &route_table_association::RouteTableAssociation,
        Kind::ElasticIp => &elastic_ip::ElasticIp,
        Kind::NatGateway => &nat_gateway::NatGateway,
        Kind::SecurityGroup => &security_group::SecurityGroup,
        Kind::IamRole => &iam::role::Role,
        Kind::IamTrustPolicy => &iam::trust_policy::TrustPolicy,
        Kind::IamInlinePolicy => &iam::inline_policy::InlinePolicy,
        Kind::IamPolicyAttachment => &iam::policy_attachment::PolicyAttachment,
        Kind::EksCluster => &eks::cluster::Cluster,
        Kind::LaunchTemplate => &eks::launch_template::LaunchTemplate,
        Kind::EksNodeGroup => &eks::node_group::NodeGroup,
        Kind::EksAccessEntry => &eks::access_entry::AccessEntry,
        Kind::LoadBalancer => &alb::load_balancer::LoadBalancer,
        Kind::TargetGroup => &alb::target_group::TargetGroup,
        Kind::Listener => &alb::listener::Listener,
        Kind::TargetGroupAttachment => &alb::target_group_attachment::TargetGroupAttachment,
        Kind::EcrRepository => &ecr::repository::Repository,
        Kind::CodeBuildProject => &codebuild::project::Project,
    }
}

/// How a change to `attr` of `kind` is carried out.
pub fn attr_rule(kind: Kind, attr: &str) -> AttrRule {
    let k = get(kind);
    if k.create_only().contains(&attr) {
        AttrRule::CreateOnly
    } else if k.force_new().contains(&attr) {
        AttrRule::ForceNew
    } else {
        AttrRule::Update
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tag_delta_sets_what_differs_and_removes_what_is_gone() {
        let spec = Spec(
            [("tags".to_string(), json!({"a": "1", "b": "new", "c": "3"}))]
                .into_iter()
                .collect(),
        );
        let have = json!({"a": "1", "b": "old", "gone": "x"});
        let d = tag_delta(Some(&have), &spec);
        assert_eq!(
            d.set,
            BTreeMap::from([("b".into(), "new".into()), ("c".into(), "3".into())])
        );
        assert_eq!(d.remove, vec!["gone".to_string()]);
        assert_eq!(
            tag_delta(Some(&json!({"a": "1", "b": "new", "c": "3"})), &spec),
            TagDelta::default()
        );
    }
}
