//! Typed attributes: the [`attrs!`] macro that declares a kind's attribute struct together with,
//! field by field, how a change to each is carried out.

use crate::model::{canonical, AttrRule};
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
/// the resource) or `=> CreateOnly` (given to create, never compared); the rest update in place.
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
    };
    (@rule) => { $crate::model::AttrRule::Update };
    (@rule $rule:ident) => { $crate::model::AttrRule::$rule };
}
pub(crate) use attrs;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::Tags;

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
