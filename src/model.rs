//! The plain data every stage shares: logical ids, resource kinds, desired specs with references,
//! and what was observed in the account.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Tag key that marks a resource as owned by a stack.
pub const STACK_TAG: &str = "infra:stack";
/// Tag key that carries a resource's logical id.
pub const ID_TAG: &str = "infra:id";

/// A resource's stable name inside the stack (`vpc`, `subnet/public/a`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LogicalId(pub String);

impl LogicalId {
    /// Builds a logical id from anything string-like.
    pub fn new(s: impl Into<String>) -> Self {
        LogicalId(s.into())
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The area a kind belongs to, used to group plan output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// VPC, subnets, gateways, routes, security groups.
    Network,
    /// Roles and their policies.
    Iam,
    /// Cluster, node group, access entries.
    Eks,
    /// Load balancer, target groups, listeners.
    Alb,
    /// Image repository.
    Ecr,
    /// Build project.
    #[serde(rename = "codebuild")]
    CodeBuild,
    /// Log groups.
    Logs,
    /// What the cluster's workloads left in the stack's network; only destroy sees these.
    #[serde(rename = "left-by-kubernetes")]
    LeftByKubernetes,
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Area::Network => "network",
            Area::Iam => "iam",
            Area::Eks => "eks",
            Area::Alb => "alb",
            Area::Ecr => "ecr",
            Area::CodeBuild => "codebuild",
            Area::Logs => "logs",
            Area::LeftByKubernetes => "left by Kubernetes in the cluster",
        })
    }
}

/// Builds the `Kind` enum, its names and its areas from the registry's rows.
macro_rules! define_kinds {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $area:ident, $imp:path; )*) => {
        /// Every resource kind the engine knows (one per row of `kinds/registry.rs`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Kind {
            $( $(#[$doc])* #[serde(rename = $name)] $variant, )*
        }

        impl Kind {
            /// All kinds, in registry order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),*];

            /// The kind's name as shown to users.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name,)*
                }
            }

            /// The area this kind is grouped under.
            pub fn area(self) -> Area {
                match self {
                    $(Kind::$variant => Area::$area,)*
                }
            }
        }
    };
}
crate::kind_registry!(define_kinds);

impl Kind {
    /// True for kinds whose loss costs more than the resource: workloads, images, traffic.
    /// Plan never deletes or replaces one of these to resolve duplicates.
    pub fn holds_state(self) -> bool {
        matches!(
            self,
            Kind::EksCluster | Kind::EksNodeGroup | Kind::EcrRepository | Kind::LoadBalancer
        )
    }

    /// True for kinds replaced new-first: the new copy is made while the old one still serves,
    /// and the old one goes once the new one (and what hangs on it) is applied. A node group's
    /// nodes are the service's capacity, and its target group attachments the ALB's way to
    /// them; both can exist twice for a while (the new node group under a name of its own).
    pub fn replaced_new_first(self) -> bool {
        matches!(self, Kind::EksNodeGroup | Kind::TargetGroupAttachment)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a kind treats a change to one of its attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrRule {
    /// Changed in place.
    Update,
    /// Cannot change in place: the resource is replaced.
    ForceNew,
    /// Only given to the create call; never compared afterwards.
    CreateOnly,
    /// Changed in place by a new version of the resource: its [`VERSION_OUTPUT`] changes, so
    /// whatever references it is planned with the new version, known only after apply.
    NewVersion,
}

/// The output naming a resource's current version (a launch template's default version).
pub const VERSION_OUTPUT: &str = "version";

/// JSON with every array sorted, so that the order AWS returns lists in does not count as a
/// change.
pub fn canonical(v: &Json) -> Json {
    match v {
        Json::Array(items) => {
            let mut items: Vec<Json> = items.iter().map(canonical).collect();
            items.sort_by_cached_key(|j| j.to_string());
            Json::Array(items)
        }
        Json::Object(map) => {
            Json::Object(map.iter().map(|(k, v)| (k.clone(), canonical(v))).collect())
        }
        other => other.clone(),
    }
}

/// A value known only once another resource exists: attribute `attr` of resource `id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ref {
    /// The resource referred to.
    pub id: LogicalId,
    /// Which of its outputs (`id`, `arn`, ...).
    pub attr: String,
}

/// A desired attribute value: a literal, a reference, or a structure holding references.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// A value known from the config alone.
    Lit(Json),
    /// A value known only after another resource exists.
    Ref(Ref),
    /// A list whose items may hold references.
    List(Vec<Value>),
    /// A map whose values may hold references.
    Map(BTreeMap<String, Value>),
}

impl Value {
    /// A literal string.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Lit(Json::String(s.into()))
    }

    /// A literal boolean.
    pub fn bool(b: bool) -> Value {
        Value::Lit(Json::Bool(b))
    }

    /// A reference to output `attr` of resource `id`.
    pub fn reference(id: &LogicalId, attr: &str) -> Value {
        Value::Ref(Ref {
            id: id.clone(),
            attr: attr.to_string(),
        })
    }

    /// Calls `f` on every reference inside the value.
    pub fn visit_refs<'a>(&'a self, f: &mut impl FnMut(&'a Ref)) {
        match self {
            Value::Lit(_) => {}
            Value::Ref(r) => f(r),
            Value::List(items) => items.iter().for_each(|v| v.visit_refs(f)),
            Value::Map(map) => map.values().for_each(|v| v.visit_refs(f)),
        }
    }

    /// Resolves references with `lookup`; `None` when any of them is not known yet.
    pub fn resolve(&self, lookup: &impl Fn(&Ref) -> Option<Json>) -> Option<Json> {
        match self {
            Value::Lit(j) => Some(j.clone()),
            Value::Ref(r) => lookup(r),
            Value::List(items) => items
                .iter()
                .map(|v| v.resolve(lookup))
                .collect::<Option<Vec<_>>>()
                .map(Json::Array),
            Value::Map(map) => map
                .iter()
                .map(|(k, v)| v.resolve(lookup).map(|j| (k.clone(), j)))
                .collect::<Option<serde_json::Map<_, _>>>()
                .map(Json::Object),
        }
    }
}

/// A resource as the config wants it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Desired {
    /// Stable logical id.
    pub id: LogicalId,
    /// What kind of resource.
    pub kind: Kind,
    /// Attributes, in the kind's own vocabulary; `tags` is a map of strings.
    pub attrs: BTreeMap<String, Value>,
    /// Ordering-only edges AWS needs that no attribute expresses (NAT gateway after the IGW).
    pub depends_on: Vec<LogicalId>,
}

impl Desired {
    /// A new resource with no attributes yet.
    pub fn new(id: impl Into<String>, kind: Kind) -> Self {
        Desired {
            id: LogicalId::new(id),
            kind,
            attrs: BTreeMap::new(),
            depends_on: Vec::new(),
        }
    }

    /// Adds an attribute (builder style).
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.attrs.insert(key.to_string(), value);
        self
    }

    /// Adds an ordering-only dependency (builder style).
    pub fn after(mut self, id: &LogicalId) -> Self {
        self.depends_on.push(id.clone());
        self
    }

    /// Every resource this one needs to exist first: its references plus ordering edges.
    pub fn deps(&self) -> BTreeSet<LogicalId> {
        let mut out: BTreeSet<LogicalId> = self.depends_on.iter().cloned().collect();
        for v in self.attrs.values() {
            v.visit_refs(&mut |r| {
                out.insert(r.id.clone());
            });
        }
        out
    }
}

/// A resource found in the account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Logical id, read from its `infra:id` tag (or its parent's, for sub-resources).
    pub id: LogicalId,
    /// What kind of resource.
    pub kind: Kind,
    /// The id AWS gave it.
    pub physical_id: String,
    /// Current attributes, in the same vocabulary as the desired spec, references resolved.
    pub attrs: BTreeMap<String, Json>,
    /// Values other resources may reference (`id`, `arn`, ...).
    pub outputs: BTreeMap<String, String>,
    /// Set when the resource exists but is unusable (a failed NAT gateway): it must be replaced.
    pub broken: Option<String>,
    /// Set when the resource is still coming up (a cluster left CREATING by an interrupted
    /// run): apply waits for it, so that "complete" means ready.
    #[serde(default)]
    pub pending: Option<String>,
    /// Set when a resource has the stack's name but not its `infra:stack` tag: someone else's.
    /// Plan reports it as a conflict; nothing ever touches it.
    #[serde(default)]
    pub unowned: bool,
    /// Set when it carries the stack's tag but an `infra:id` infra never makes (or none):
    /// someone else tagged it. Plan lists it; nothing ever touches it.
    #[serde(default)]
    pub stray: bool,
}

impl Observed {
    /// A new observation with the `id` output set to the physical id.
    #[cfg(test)]
    pub fn new(id: LogicalId, kind: Kind, physical_id: impl Into<String>) -> Self {
        let physical_id = physical_id.into();
        let mut outputs = BTreeMap::new();
        outputs.insert("id".to_string(), physical_id.clone());
        Observed {
            id,
            kind,
            physical_id,
            attrs: BTreeMap::new(),
            outputs,
            broken: None,
            pending: None,
            unowned: false,
            stray: false,
        }
    }
}

/// An AWS id as people read it. Sub-resources without an id of their own are known by their
/// parts (`grpc-eks-node|arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy`): those read as
/// the parts' names (`grpc-eks-node / AmazonEKSWorkerNodePolicy`).
pub fn readable(physical: &str) -> String {
    if !physical.contains('|') {
        return physical.to_string();
    }
    let name = |part: &str| -> String {
        match part.strip_prefix("arn:") {
            Some(rest) => rest.rsplit(['/', ':']).next().unwrap_or(rest).to_string(),
            None => part.to_string(),
        }
    };
    physical
        .split('|')
        .map(name)
        .collect::<Vec<_>>()
        .join(" / ")
}

/// Builds the tag map every owned resource carries: user tags, then the ownership tags.
pub fn owned_tags(stack: &str, id: &LogicalId, user: &BTreeMap<String, String>) -> Value {
    let mut map: BTreeMap<String, Value> = user
        .iter()
        .map(|(k, v)| (k.clone(), Value::str(v.clone())))
        .collect();
    map.insert("Name".to_string(), Value::str(format!("{stack}/{id}")));
    map.insert(STACK_TAG.to_string(), Value::str(stack));
    map.insert(ID_TAG.to_string(), Value::str(id.as_str()));
    Value::Map(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_ids_read_as_their_parts_names() {
        assert_eq!(
            readable("grpc-eks-node|arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"),
            "grpc-eks-node / AmazonEKSWorkerNodePolicy"
        );
        assert_eq!(
            readable("grpc-eks|arn:aws:iam::123456789012:role/grpc-eks-codebuild"),
            "grpc-eks / grpc-eks-codebuild"
        );
        assert_eq!(readable("vpc-0abc"), "vpc-0abc");
    }

    #[test]
    fn json_names_kinds_as_the_plan_text_does() {
        for &k in Kind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str(), "{k:?}");
        }
    }
}
