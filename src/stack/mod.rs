//! Turns a validated config into the desired graph. All of the AWS ordering knowledge that no
//! attribute reference expresses lives here, next to the resources it concerns.

mod alb;
mod codebuild;
mod ecr;
mod eks;
pub mod endpoints;
mod iam;
pub mod ids;
mod logs;
mod network;

use crate::config::Config;
use crate::graph::Graph;
use crate::model::{owned_tags, LogicalId, Value};

/// The desired graph of the whole stack in `account`.
pub fn build(config: &Config, account: &str) -> Graph {
    let mut b = Builder {
        config,
        account,
        graph: Graph::default(),
    };
    network::add(&mut b);
    endpoints::add(&mut b);
    iam::add(&mut b);
    ecr::add(&mut b);
    logs::add(&mut b);
    eks::add(&mut b);
    alb::add(&mut b);
    codebuild::add(&mut b);
    b.graph
}

/// Shared state while building: the config, the account and the graph so far.
pub(crate) struct Builder<'a> {
    config: &'a Config,
    account: &'a str,
    graph: Graph,
}

/// Shorthand for a reference to output `attr` of `id`.
fn out(id: &str, attr: &str) -> Value {
    Value::reference(&LogicalId::new(id), attr)
}

impl Builder<'_> {
    /// The ownership and user tags for resource `id`.
    fn tags(&self, id: &str) -> Value {
        owned_tags(&self.config.stack, &LogicalId::new(id), &self.config.tags)
    }

    /// The tags for `id` plus `extra` (Kubernetes discovery tags, for example).
    fn tags_with(&self, id: &str, extra: &[(&str, &str)]) -> Value {
        let Value::Map(mut map) = self.tags(id) else {
            unreachable!("owned_tags always builds a map")
        };
        for (k, v) in extra {
            map.insert((*k).to_string(), Value::str(*v));
        }
        Value::Map(map)
    }
}

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
mod tests;
