//! Settings that are valid but leave the stack open: `plan` and `apply` list them in yellow.

use super::{Config, EndpointAccess, ANYWHERE};

/// What in `config` deserves a second look, each with what to do about it.
pub fn warnings(config: &Config) -> Vec<String> {
    let e = &config.eks;
    let mut out = Vec::new();
    if e.endpoint == EndpointAccess::PublicAndPrivate
        && e.public_access_cidrs.iter().any(|c| c == ANYWHERE)
    {
        out.push(format!(
            "eks.public_access_cidrs includes {ANYWHERE}: the cluster's Kubernetes API answers the \
             whole internet. Narrow it to your offices and CI, or set eks.endpoint: private."
        ));
    }
    if e.logging.is_empty() {
        out.push(
            "eks.logging is empty: no control-plane audit log records who did what in the \
             cluster."
                .to_string(),
        );
    }
    let b = &config.codebuild;
    if b.source_type() == Some("GITLAB") && b.connection_arn.is_none() {
        // Not an error: the account's default source credential for GitLab (a connection set
        // with ImportSourceCredentials) serves a project that names none.
        out.push(
            "codebuild.repository_url is on gitlab.com and codebuild.connection_arn is not set: \
             CodeBuild reaches GitLab only through a connection, so builds fail in \
             DOWNLOAD_SOURCE unless the account has a default GitLab source credential."
                .to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, DEFAULT_YAML};

    #[test]
    fn the_open_default_endpoint_is_warned_about_and_a_narrowed_one_is_not() {
        let open = parse(DEFAULT_YAML).unwrap();
        let w = warnings(&open);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("eks.public_access_cidrs"), "{w:?}");
        let narrowed = DEFAULT_YAML.replace("[0.0.0.0/0]", "[203.0.113.0/24]");
        assert!(warnings(&parse(&narrowed).unwrap()).is_empty());
        let private = DEFAULT_YAML.replace("endpoint: public-and-private", "endpoint: private");
        assert!(warnings(&parse(&private).unwrap()).is_empty());
        let quiet = DEFAULT_YAML.replace("logging: [api, audit, authenticator]", "logging: []");
        assert!(warnings(&parse(&quiet).unwrap())
            .iter()
            .any(|w| w.contains("eks.logging")));
    }
}
