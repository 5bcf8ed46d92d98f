//! Typed attributes: the [`attrs!`] macro that declares a kind's attribute struct together with,
//! field by field, how a change to each is carried out.

use crate::model::{canonical, AttrRule};
use crate::tags::Tags;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

/// A kind's attributes: serialisable for the plan, and knowing which of them force replacement.
pub trait Attributes:
    Serialize + DeserializeOwned + Clone + Debug + PartialEq + Send + Sync + 'static
{
    /// How a change to `attr` is carried out.
    fn rule(attr: &str) -> AttrRule;
}

/// Attributes that carry the resource's tags (any `attrs!` struct with a `tags` field).
pub trait HasTags {
    /// The resource's tags.
    fn tags(&self) -> &Tags;
}

/// True when `have` and `want` differ as the plan compares them (list order does not count).
pub fn differs<T: Serialize>(have: &T, want: &T) -> bool {
    match (serde_json::to_value(have), serde_json::to_value(want)) {
        (Ok(h), Ok(w)) => canonical(&h) != canonical(&w),
        // Our own attribute types always serialise; if one ever did not, updating is the safe
        // answer.
        _ => true,
    }
}

/// Declares a kind's attribute struct. Each field may end in `=> ForceNew` (a change replaces
/// the resource), `=> CreateOnly` (given to create, never compared) or `=> NewVersion` (changed
/// in place by a new version, see [`AttrRule::NewVersion`]); the rest update in place.
/// Unknown or missing attributes are refused when a desired spec is converted.
///
/// ```ignore
/// attrs! {
///     /// What a VPC is made of.
///     pub struct VpcAttrs {
///         /// Its IPv4 range.
///         cidr_block: String => ForceNew,
///         /// Whether instances get DNS names.
///         enable_dns_hostnames: bool,
///     }
/// }
/// ```
macro_rules! attrs {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty $(=> $rule:ident)?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::kinds::Attributes for $name {
            fn rule(attr: &str) -> $crate::model::AttrRule {
                $(
                    if attr == stringify!($field) {
                        return $crate::kinds::attrs!(@rule $($rule)?);
                    }
                )*
                $crate::model::AttrRule::Update
            }
        }

        $crate::kinds::attrs!(@tags $name; $($field)*);
    };
    (@rule) => { $crate::model::AttrRule::Update };
    // A field named `tags` makes the struct `HasTags`.
    (@tags $name:ident; tags $($rest:ident)*) => {
        impl $crate::kinds::HasTags for $name {
            fn tags(&self) -> &$crate::tags::Tags {
                &self.tags
            }
        }
    };
    (@tags $name:ident; $first:ident $($rest:ident)*) => {
        $crate::kinds::attrs!(@tags $name; $($rest)*);
    };
    (@tags $name:ident;) => {};
    (@rule $rule:ident) => { $crate::model::AttrRule::$rule };
}
pub(crate) use attrs;

#[cfg(test)]
mod tests {
    use super::*;

    attrs! {
        /// An example.
        pub struct Example {
            /// Replaces.
            cidr: String => ForceNew,
            /// Given once.
            initial: String => CreateOnly,
            /// Updates.
            tags: Tags,
        }
    }

    #[test]
    fn rules_are_read_from_the_fields() {
        assert_eq!(Example::rule("cidr"), AttrRule::ForceNew);
        assert_eq!(Example::rule("initial"), AttrRule::CreateOnly);
        assert_eq!(Example::rule("tags"), AttrRule::Update);
        let e = Example {
            cidr: String::new(),
            initial: String::new(),
            tags: Tags::default(),
        };
        assert!(
            e.tags().0.is_empty(),
            "a `tags` field makes the struct HasTags"
        );
    }

    #[test]
    fn unknown_and_missing_attributes_are_refused() {
        let ok = serde_json::json!({"cidr": "10.0.0.0/16", "initial": "x", "tags": {}});
        assert!(serde_json::from_value::<Example>(ok).is_ok());
        let typo = serde_json::json!({"cdir": "10.0.0.0/16", "initial": "x", "tags": {}});
        assert!(serde_json::from_value::<Example>(typo).is_err());
        let missing = serde_json::json!({"initial": "x", "tags": {}});
        assert!(serde_json::from_value::<Example>(missing).is_err());
    }

    #[test]
    fn differs_ignores_list_order() {
        assert!(!differs(&vec!["a", "b"], &vec!["b", "a"]));
        assert!(differs(&vec!["a"], &vec!["a", "b"]));
    }
}
