//! AWS clients for the stack's region, and errors that say which call failed and why.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use std::time::Duration;

/// Clients for every service the stack uses, sharing one configuration.
#[derive(Clone, Debug)]
pub struct Aws {
    /// EC2: VPC, subnets, gateways, routes, security groups, launch templates.
    pub ec2: aws_sdk_ec2::Client,
    /// IAM: roles and policies.
    pub iam: aws_sdk_iam::Client,
    /// EKS: cluster, node group, access entries.
    pub eks: aws_sdk_eks::Client,
    /// Elastic Load Balancing v2: ALB, target groups, listeners.
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    /// Auto Scaling: the node group's group, for target group attachments.
    pub autoscaling: aws_sdk_autoscaling::Client,
    /// ECR: the image repository.
    pub ecr: aws_sdk_ecr::Client,
    /// CodeBuild: the build project.
    pub codebuild: aws_sdk_codebuild::Client,
    /// STS: who we are (the account id).
    pub sts: aws_sdk_sts::Client,
    /// The stack's region.
    pub region: String,
}

impl Aws {
    /// Loads credentials and endpoint from the standard chain (env, profile, SSO, IMDS, and
    /// `AWS_ENDPOINT_URL`) for `region`.
    pub async fn connect(region: &str) -> Self {
        // Adaptive retry rate-limits the client itself once AWS starts throttling, which is
        // what keeps a wide parallel apply from turning throttles into failures.
        let retry = RetryConfig::adaptive()
            .with_max_attempts(8)
            .with_max_backoff(Duration::from_secs(10));
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .retry_config(retry)
            .load()
            .await;
        Aws {
            ec2: aws_sdk_ec2::Client::new(&conf),
            iam: aws_sdk_iam::Client::new(&conf),
            eks: aws_sdk_eks::Client::new(&conf),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&conf),
            autoscaling: aws_sdk_autoscaling::Client::new(&conf),
            ecr: aws_sdk_ecr::Client::new(&conf),
            codebuild: aws_sdk_codebuild::Client::new(&conf),
            sts: aws_sdk_sts::Client::new(&conf),
            region: region.to_string(),
        }
    }

    /// The account the credentials belong to.
    pub async fn account_id(&self) -> Result<String, AwsError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .aws("GetCallerIdentity")?;
        Ok(out.account().unwrap_or_default().to_string())
    }
}

/// A failed AWS call: the operation, AWS's error code and message.
#[derive(Debug, thiserror::Error)]
#[error("{op} failed: {detail}")]
pub struct AwsError {
    /// The API operation, e.g. `CreateSubnet`.
    pub op: &'static str,
    /// AWS's error code, when the service answered.
    pub code: Option<String>,
    /// Human-readable detail.
    pub detail: String,
}

impl AwsError {
    /// True when AWS answered with this error code.
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// True for the `*.NotFound` family: the resource is already gone.
    pub fn is_not_found(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(|c| c.ends_with("NotFound") || c.ends_with("NotFoundException"))
    }
}

/// Turns SDK results into [`AwsError`]s naming the operation.
pub trait AwsResultExt<T> {
    /// Maps the error, recording `op` as the failed call.
    fn aws(self, op: &'static str) -> Result<T, AwsError>;
}

impl<T, E, R> AwsResultExt<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    fn aws(self, op: &'static str) -> Result<T, AwsError> {
        self.map_err(|e| {
            let code = e.code().map(str::to_string);
            let detail = match (&e, e.code(), e.message()) {
                (_, Some(code), Some(msg)) => format!("{code}: {msg}"),
                (_, Some(code), None) => code.to_string(),
                (SdkError::DispatchFailure(_), _, _) if credentials_missing(&e) => format!(
                    "no usable AWS credentials ({}). Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and \
                     AWS_SECRET_ACCESS_KEY, or run `aws sso login`",
                    credentials_cause(&e)
                ),
                (SdkError::DispatchFailure(_), _, _) | (SdkError::TimeoutError(_), _, _) => format!(
                    "could not reach the AWS endpoint ({}); check the network, AWS_ENDPOINT_URL and the region",
                    aws_sdk_ec2::error::DisplayErrorContext(&e)
                ),
                _ => aws_sdk_ec2::error::DisplayErrorContext(&e).to_string(),
            };
            AwsError { op, code, detail }
        })
    }
}

/// The credentials error somewhere in `e`'s sources, if the call failed for want of them.
fn credentials_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a CredentialsError> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(c) = err.downcast_ref::<CredentialsError>() {
            return Some(c);
        }
        next = err.source();
    }
    None
}

fn credentials_missing<E, R>(e: &SdkError<E, R>) -> bool
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    credentials_error(e).is_some()
}

/// The provider's own one-line reason, without the SDK's nested debug dump.
fn credentials_cause<E, R>(e: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match credentials_error(e) {
        // The default chain ends with instance metadata, so its last error is about IMDS even
        // on a laptop: say what was searched instead.
        Some(CredentialsError::CredentialsNotLoaded(_) | CredentialsError::ProviderError(_)) => {
            "none in the environment, the shared config and credentials files, SSO, or instance \
             metadata"
                .to_string()
        }
        Some(c) => match std::error::Error::source(c) {
            Some(cause) => format!("{c}: {cause}"),
            None => c.to_string(),
        },
        None => String::new(),
    }
}

/// Treats "already gone" as success, for idempotent deletes.
pub fn gone_ok(result: Result<(), AwsError>) -> Result<(), AwsError> {
    match result {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}
