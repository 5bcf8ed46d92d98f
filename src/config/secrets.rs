//! Build secrets named by reference (`ssm:<name>`, `secretsmanager:<secret>`): what CodeBuild
//! takes for each, and the one resource the build role may read for it.

/// Where a build secret lives. The config holds only this reference, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// A Systems Manager Parameter Store parameter, by name.
    Ssm(String),
    /// A Secrets Manager secret: its name or ARN, optionally followed by CodeBuild's
    /// `:json-key:version-stage:version-id` selectors.
    SecretsManager(String),
}

/// Variable names the project sets itself, which a secret may not shadow.
pub const PROJECT_VARIABLES: [&str; 6] = [
    "AWS_ACCOUNT_ID",
    "AWS_REGION",
    "REPOSITORY_URI",
    "CLUSTER_NAME",
    "K8S_NAMESPACE",
    "BUILD_ROLE_ARN",
];

impl SecretRef {
    /// Parses `ssm:<name>` or `secretsmanager:<secret>`; the error says what is expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(name) = text.strip_prefix("ssm:") {
            let ok = !name.is_empty()
                && name.len() <= 2048
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c));
            return if ok {
                Ok(SecretRef::Ssm(name.to_string()))
            } else {
                Err(format!(
                    "{name:?} is not a Parameter Store name (letters, digits, _ . - /; \
                     at most 2048 characters)"
                ))
            };
        }
        if let Some(id) = text.strip_prefix("secretsmanager:") {
            return if id.is_empty() || id.contains(char::is_whitespace) {
                Err(format!(
                    "{id:?} is not a Secrets Manager secret name or ARN"
                ))
            } else {
                Ok(SecretRef::SecretsManager(id.to_string()))
            };
        }
        Err(format!(
            "{text:?} is not a secret reference (expected ssm:<parameter name> or \
             secretsmanager:<secret name or ARN>)"
        ))
    }

    /// CodeBuild's environment variable type for it.
    pub fn variable_type(&self) -> &'static str {
        match self {
            SecretRef::Ssm(_) => "PARAMETER_STORE",
            SecretRef::SecretsManager(_) => "SECRETS_MANAGER",
        }
    }

    /// The variable's value as CodeBuild takes it: the parameter name or the secret id.
    pub fn value(&self) -> &str {
        match self {
            SecretRef::Ssm(name) | SecretRef::SecretsManager(name) => name,
        }
    }

    /// The IAM action that reads it.
    pub fn read_action(&self) -> &'static str {
        match self {
            // CodeBuild reads parameters with GetParameters, which IAM authorizes as such.
            SecretRef::Ssm(_) => "ssm:GetParameters",
            SecretRef::SecretsManager(_) => "secretsmanager:GetSecretValue",
        }
    }

    /// The ARN of exactly what the build may read for it.
    pub fn resource_arn(&self, region: &str, account: &str) -> String {
        match self {
            SecretRef::Ssm(name) => format!(
                "arn:aws:ssm:{region}:{account}:parameter/{}",
                name.trim_start_matches('/')
            ),
            SecretRef::SecretsManager(id) if id.starts_with("arn:") => {
                // arn:aws:secretsmanager:<region>:<account>:secret:<name-suffix>, then selectors.
                id.split(':').take(7).collect::<Vec<_>>().join(":")
            }
            // A secret's ARN ends in "-" and six random characters that its name does not carry.
            SecretRef::SecretsManager(id) => {
                let name = id.split(':').next().unwrap_or(id);
                format!("arn:aws:secretsmanager:{region}:{account}:secret:{name}-??????")
            }
        }
    }
}

/// Why a variable name cannot carry a secret, if it cannot.
pub fn name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Some(format!(
            "{name:?} is not a variable name (a letter or _, then letters, digits and _)"
        ));
    }
    if name.starts_with("CODEBUILD_") {
        return Some(format!(
            "{name:?}: CODEBUILD_ names are reserved by CodeBuild"
        ));
    }
    if PROJECT_VARIABLES.contains(&name) {
        return Some(format!("{name:?} is set by the project itself"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_into_codebuild_types_and_one_readable_resource() {
        let other = "arn:aws:secretsmanager:us-east-1:210987654321:secret:db-AbCdEf";
        let with_key = format!("secretsmanager:{other}:password::");
        // (reference, CodeBuild type, CodeBuild value, what the role may read)
        let cases = [
            (
                "ssm:/infra/app/token",
                "PARAMETER_STORE",
                "/infra/app/token",
                "arn:aws:ssm:us-east-1:123456789012:parameter/infra/app/token",
            ),
            (
                "secretsmanager:app/db:password",
                "SECRETS_MANAGER",
                "app/db:password",
                // A name's ARN ends in six random characters.
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-??????",
            ),
            (with_key.as_str(), "SECRETS_MANAGER", &with_key[15..], other),
        ];
        for (text, kind, value, arn) in cases {
            let r = SecretRef::parse(text).unwrap();
            assert_eq!(r.variable_type(), kind, "{text}");
            assert_eq!(r.value(), value, "{text}");
            assert_eq!(r.resource_arn("us-east-1", "123456789012"), arn, "{text}");
        }
    }

    #[test]
    fn bad_references_and_names_say_what_is_expected() {
        for bad in ["vault:x", "ssm:", "ssm:a b", "secretsmanager:", "plain"] {
            assert!(SecretRef::parse(bad).is_err(), "{bad}");
        }
        assert!(name_problem("API_TOKEN").is_none());
        assert!(name_problem("1TOKEN").is_some());
        assert!(name_problem("CODEBUILD_X").is_some());
        assert!(name_problem("CLUSTER_NAME").is_some());
    }
}
