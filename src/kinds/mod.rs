//! Resource kinds: each knows how to observe, create, update and delete one kind of AWS
//! resource over its own typed attributes ([`Resource`]), and is listed once in [`registry`].
//! The engine only sees the JSON-facing [`ResourceKind`] that [`Typed`] makes of it.

pub mod alb;
pub mod codebuild;
pub mod ecr;
pub mod eks;
pub mod iam;
pub mod leftovers;
pub mod logs;
pub mod network;

mod attributes;
pub mod registry;
#[cfg(test)]
pub(crate) mod tests_typed;

pub(crate) use attributes::attrs;
pub use attributes::{differs, Attributes, HasTags};

use crate::aws::Aws;
pub use crate::model::AttrRule;
use crate::model::{Kind, LogicalId, Observed};
use crate::report::Reporter;
use crate::retry::poll_until;
pub use crate::snapshot::Snapshot;
use crate::tags::{untracked, Identity, Tagged};
use anyhow::{anyhow, Context, Result};
use async_trait::async_trait;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

/// Values other resources can reference, `id` always among them.
pub type Outputs = BTreeMap<String, String>;

/// What a kind needs while it works on one resource.
pub struct StepCtx<'a> {
    /// AWS clients.
    pub aws: &'a Aws,
    /// The stack's name.
    pub stack: &'a str,
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

    /// Waits, with a note to the user, until `gone` says `what` (a resource AWS deletes
    /// asynchronously) no longer exists.
    pub async fn wait_deleted<F, Fut>(&self, what: &str, timeout: Duration, gone: F) -> Result<()>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<bool>>,
    {
        self.note(&format!("waiting for {what} to be deleted"));
        let check = || async { Ok(gone().await?.then_some(())) };
        poll_until(&format!("{what} to be deleted"), timeout, check).await
    }
}

/// A desired spec with every reference resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spec(pub BTreeMap<String, Json>);

impl Spec {
    /// The spec as a kind's typed attributes.
    pub fn typed<A: Attributes>(&self) -> Result<A> {
        Ok(serde_json::from_value(Json::Object(
            self.0.clone().into_iter().collect(),
        ))?)
    }
}

/// A resource as a kind's observe found it, in the kind's typed attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Found<A> {
    /// Logical id, from its tags (or its parent's, for sub-resources).
    pub id: LogicalId,
    /// The id AWS gave it.
    pub physical_id: String,
    /// Its attributes, in the same shape as the desired ones.
    pub attrs: A,
    /// Values other resources may reference; `id` is always among them.
    pub outputs: Outputs,
    /// Set when it exists but is unusable (a failed NAT gateway): it must be replaced.
    pub broken: Option<String>,
    /// Set when it is still coming up: apply waits for it, so that "complete" means ready.
    pub pending: Option<String>,
    /// Set when it has the stack's name but not the stack's tag: someone else's.
    pub unowned: bool,
}

impl<A> Found<A> {
    /// A found resource whose `id` output is its physical id.
    pub fn new(id: LogicalId, physical_id: impl Into<String>, attrs: A) -> Self {
        let physical_id = physical_id.into();
        Found {
            id,
            outputs: id_outputs(&physical_id),
            physical_id,
            attrs,
            broken: None,
            pending: None,
            unowned: false,
        }
    }

    /// A found resource whose logical id and ownership its tags gave (see
    /// [`Tags::identity`](crate::tags::Tags::identity)).
    pub fn identified(who: Identity, physical_id: impl Into<String>, attrs: A) -> Self {
        let mut found = Found::new(who.id, physical_id, attrs);
        found.unowned = !who.owned;
        found
    }

    /// A found resource whose logical id and ownership come from its own tags, with its
    /// physical id as the logical id of a resource the stack does not track.
    pub fn tagged(stack: &str, physical_id: &str, attrs: A) -> Self
    where
        A: HasTags,
    {
        Found::by_tags(stack, &untracked(physical_id), physical_id, attrs)
    }

    /// A found resource whose logical id and ownership come from its own tags, with `fallback`
    /// as its logical id when they do not make it the stack's (the id its name would give it).
    pub fn by_tags(stack: &str, fallback: &str, physical_id: impl Into<String>, attrs: A) -> Self
    where
        A: HasTags,
    {
        let who = attrs.tags().identity(stack, fallback);
        Found::identified(who, physical_id, attrs)
    }

    /// Every item of `items` that has an id, found through its own tags (see [`Found::tagged`]).
    pub fn all_tagged<T>(
        snap: &Snapshot,
        items: &[T],
        id: impl for<'a> Fn(&'a T) -> Option<&'a str>,
        attrs: impl Fn(&T) -> A,
    ) -> Vec<Self>
    where
        A: HasTags,
    {
        let found = |item| Some(Found::tagged(snap.stack(), id(item)?, attrs(item)));
        items.iter().filter_map(found).collect()
    }

    /// Marks it as still `state` (coming up): apply waits until it is `ready`.
    pub fn coming_up(&mut self, state: &str, ready: &str) {
        self.pending = Some(format!("still {state}: apply waits until it is {ready}"));
    }

    /// The engine's observation of it, as a `kind`: its attributes as the plan's JSON.
    pub fn observed(self, kind: Kind) -> Result<Observed>
    where
        A: Attributes,
    {
        let attrs = match serde_json::to_value(&self.attrs)? {
            Json::Object(map) => map.into_iter().collect(),
            other => anyhow::bail!("{kind} attributes are not a map: {other}"),
        };
        Ok(Observed {
            id: self.id,
            kind,
            physical_id: self.physical_id,
            attrs,
            outputs: self.outputs,
            broken: self.broken,
            pending: self.pending,
            unowned: self.unowned,
            stray: false,
        })
    }

    /// Adds output `key` (builder style).
    pub fn output(mut self, key: &str, value: impl Into<String>) -> Self {
        self.outputs.insert(key.to_string(), value.into());
        self
    }
}

/// A resource that exists, as update and delete get it: what observe found, typed again.
#[derive(Clone, Debug, PartialEq)]
pub struct Current<A> {
    /// The id AWS gave it.
    pub physical_id: String,
    /// Its attributes as observed.
    pub attrs: A,
    /// Its outputs as observed.
    pub outputs: Outputs,
    /// Set when it was still coming up when observed.
    pub pending: Option<String>,
}

/// A resource to update in place: what observe found and what the spec wants.
#[derive(Clone, Debug, PartialEq)]
pub struct Change<A> {
    /// The id AWS gave it.
    pub physical_id: String,
    /// Its attributes as observed.
    pub have: A,
    /// Its attributes as the spec wants them.
    pub want: A,
    /// Its outputs as observed.
    pub outputs: Outputs,
    /// Set when it was still coming up when observed.
    pub pending: Option<String>,
}

impl<A> Change<A> {
    /// Output `key`, which observe always sets for this kind.
    pub fn output(&self, key: &str) -> Result<&str> {
        self.outputs
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| anyhow!("the observed {} has no {key}", self.physical_id))
    }

    /// Brings the resource's tags (`target`) from what it has to what the spec wants.
    pub async fn sync_tags(&self, aws: &Aws, target: Tagged<'_>) -> Result<()>
    where
        A: HasTags,
    {
        crate::tags::sync(aws, target, self.have.tags(), self.want.tags()).await
    }

    /// Brings the tags to what the spec wants, for an update that changes nothing else:
    /// the outputs stay as observed.
    pub async fn retag(&self, aws: &Aws, target: Tagged<'_>) -> Result<Outputs>
    where
        A: HasTags,
    {
        self.sync_tags(aws, target).await?;
        Ok(self.outputs.clone())
    }
}

/// What a create call (`op`) answered with (the new resource or its id); an error when the
/// answer lacks it.
pub fn created<'a, T: ?Sized>(op: &str, answer: Option<&'a T>) -> Result<&'a T> {
    answer.with_context(|| format!("{op} answered without the new resource or its id"))
}

/// The text of an SDK enum value AWS may leave out (empty when it does).
pub fn enum_text<T: AsRef<str>>(value: Option<&T>) -> String {
    value.map(|v| v.as_ref().to_string()).unwrap_or_default()
}

/// The outputs of a resource known by its name: `id` and `name` are the name, `arn` its ARN.
pub fn named_outputs(name: &str, arn: &str) -> Outputs {
    Outputs::from([
        ("id".to_string(), name.to_string()),
        ("name".to_string(), name.to_string()),
        ("arn".to_string(), arn.to_string()),
    ])
}

/// The outputs of a resource whose only output is its id.
pub fn id_outputs(id: &str) -> Outputs {
    Outputs::from([("id".to_string(), id.to_string())])
}

/// One kind of AWS resource, over its own typed attributes. Implement this for a new kind
/// (its methods may be written `async fn`), then add its line to [`registry`].
pub trait Resource: Send + Sync + 'static {
    /// The attributes its create and update take and its observe reports (see [`attrs!`]).
    type Attrs: Attributes;

    /// Every resource of this kind the stack owns (and those in the way of its names), read
    /// through the snapshot.
    fn observe(
        &self,
        snap: &Snapshot,
    ) -> impl Future<Output = Result<Vec<Found<Self::Attrs>>>> + Send;

    /// Creates the resource, tagged in the same call where AWS allows; returns its outputs.
    fn create(
        &self,
        cx: &StepCtx<'_>,
        want: &Self::Attrs,
    ) -> impl Future<Output = Result<Outputs>> + Send;

    /// Creates the resource that replaces `old` while `old` still serves (kinds
    /// [`Kind::replaced_new_first`] names): under a name of its own where names are unique,
    /// ready to take over before `old` goes. By default, a plain create.
    fn create_replacement(
        &self,
        cx: &StepCtx<'_>,
        want: &Self::Attrs,
        old: &Current<Self::Attrs>,
    ) -> impl Future<Output = Result<Outputs>> + Send {
        let _ = old;
        self.create(cx, want)
    }

    /// Brings the resource from `c.have` to `c.want` in place; the plan only asks for this when
    /// no attribute that forces replacement differs (or when the resource is still coming up).
    fn update(
        &self,
        cx: &StepCtx<'_>,
        c: &Change<Self::Attrs>,
    ) -> impl Future<Output = Result<Outputs>> + Send;

    /// Deletes the resource and waits until AWS has let go of it; gone already is success.
    fn delete(
        &self,
        cx: &StepCtx<'_>,
        c: &Current<Self::Attrs>,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// A typed kind seen through the engine's JSON boundary: the one place attributes are
/// converted between the plan's data and a kind's struct.
pub struct Typed<R>(pub Kind, pub R);

impl<R: Resource> Typed<R> {
    fn current(&self, o: &Observed) -> Result<Current<R::Attrs>> {
        let attrs = serde_json::from_value(Json::Object(o.attrs.clone().into_iter().collect()))
            .with_context(|| {
                format!(
                    "the observed {} {} does not fit its attributes",
                    self.0, o.physical_id
                )
            })?;
        Ok(Current {
            physical_id: o.physical_id.clone(),
            attrs,
            outputs: o.outputs.clone(),
            pending: o.pending.clone(),
        })
    }

    fn want(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<R::Attrs> {
        spec.typed()
            .with_context(|| format!("the desired attributes of {} do not fit {}", cx.id, self.0))
    }
}

#[async_trait]
impl<R: Resource> ResourceKind for Typed<R> {
    fn rule(&self, attr: &str) -> AttrRule {
        R::Attrs::rule(attr)
    }

    #[cfg(test)]
    fn check(&self, spec: &Spec) -> Result<()> {
        spec.typed::<R::Attrs>().map(|_| ())
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let found = self.1.observe(snap).await?;
        found.into_iter().map(|f| f.observed(self.0)).collect()
    }

    async fn create(
        &self,
        cx: &StepCtx<'_>,
        spec: &Spec,
        replacing: Option<&Observed>,
    ) -> Result<Outputs> {
        let want = self.want(cx, spec)?;
        match replacing {
            Some(old) => {
                let old = self.current(old)?;
                self.1.create_replacement(cx, &want, &old).await
            }
            None => self.1.create(cx, &want).await,
        }
    }

    async fn update(&self, cx: &StepCtx<'_>, current: &Observed, spec: &Spec) -> Result<Outputs> {
        let Current {
            physical_id,
            attrs,
            outputs,
            pending,
        } = self.current(current)?;
        let change = Change {
            physical_id,
            have: attrs,
            want: self.want(cx, spec)?,
            outputs,
            pending,
        };
        self.1.update(cx, &change).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        self.1.delete(cx, &self.current(current)?).await
    }
}

/// A kind as the engine sees it: JSON attributes in and out. Only [`Typed`] implements it.
#[async_trait]
pub trait ResourceKind: Send + Sync {
    /// How a change to `attr` is carried out.
    fn rule(&self, attr: &str) -> AttrRule;

    /// Converts a desired spec to the kind's attributes, to catch names and types that do not fit.
    #[cfg(test)]
    fn check(&self, spec: &Spec) -> Result<()>;

    /// Every resource of this kind the stack owns, read through `snap`.
    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>>;

    /// Creates the resource from its desired spec, as the replacement of `replacing` while that
    /// one still exists (a new-first replacement); returns its outputs.
    async fn create(
        &self,
        cx: &StepCtx<'_>,
        spec: &Spec,
        replacing: Option<&Observed>,
    ) -> Result<Outputs>;

    /// Brings the resource to its desired spec in place.
    async fn update(&self, cx: &StepCtx<'_>, current: &Observed, spec: &Spec) -> Result<Outputs>;

    /// Deletes the resource and waits until AWS has let go of it; gone already is success.
    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()>;
}

/// Builds [`get`] from the registry's rows.
macro_rules! define_get {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $area:ident, $imp:path; )*) => {
        /// The implementation of `kind`.
        pub fn get(kind: Kind) -> &'static dyn ResourceKind {
            match kind {
                $(Kind::$variant => &Typed(Kind::$variant, $imp),)*
            }
        }
    };
}
crate::kind_registry!(define_get);

/// How a change to `attr` of `kind` is carried out.
pub fn attr_rule(kind: Kind, attr: &str) -> AttrRule {
    get(kind).rule(attr)
}
