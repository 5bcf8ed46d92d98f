//! AWS clients for the stack's region, and errors that say which call failed and why.

use crate::call_log::CallLog;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::retry::RetrySpec;
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
    /// CloudWatch Logs: the log groups the build and the cluster write to.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// DynamoDB: the lock table that keeps runs of one stack from overlapping.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// ACM: whether the HTTPS listener's certificate is issued (plan's preflight).
    pub acm: aws_sdk_acm::Client,
    /// The Price List API, for the plan's cost estimate (always in its own region).
    pub pricing: aws_sdk_pricing::Client,
    /// The stack's region.
    pub region: String,
    /// The configuration the clients were built from: credentials and endpoints for the one
    /// request no SDK client makes, the EKS token for the cluster's Kubernetes API (`kube`).
    pub sdk: aws_types::SdkConfig,
}

impl Aws {
    /// Loads credentials and endpoint from the standard chain (env, profile, SSO, IMDS, and
    /// `AWS_ENDPOINT_URL`) for `region`.
    pub async fn connect(region: &str) -> Self {
        // Adaptive retry rate-limits the client itself once AWS starts throttling, which is
        // what keeps a wide parallel apply from turning throttles into failures. Retry
        // behaviour 2.1: under the legacy 2.0 rules a throttled retry asks the rate limiter
        // for 10 tokens from a bucket that holds at most max(rate, 1), so every throttle
        // stalled its call for the whole max_backoff (10 s); 2.1 charges one token per attempt
        // and retries 5xx errors after 50 ms instead of 1 s.
        let retry = RetryConfig::adaptive()
            .with_retry_spec(RetrySpec::v2_1())
            .with_max_attempts(MAX_ATTEMPTS)
            .with_max_backoff(Duration::from_secs(10));
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .retry_config(retry)
            .load()
            .await;
        // Every client logs its calls for -v.
        macro_rules! client {
            ($sdk:ident) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(&conf)
                        .interceptor(CallLog)
                        .build(),
                )
            };
        }
        Aws {
            ec2: client!(aws_sdk_ec2),
            iam: client!(aws_sdk_iam),
            eks: client!(aws_sdk_eks),
            elb: client!(aws_sdk_elasticloadbalancingv2),
            autoscaling: client!(aws_sdk_autoscaling),
            ecr: client!(aws_sdk_ecr),
            codebuild: client!(aws_sdk_codebuild),
            sts: client!(aws_sdk_sts),
            logs: client!(aws_sdk_cloudwatchlogs),
            dynamodb: client!(aws_sdk_dynamodb),
            acm: client!(aws_sdk_acm),
            pricing: aws_sdk_pricing::Client::from_conf(
                aws_sdk_pricing::config::Builder::from(&conf)
                    .region(Region::new(crate::cost::PRICING_REGION))
                    .interceptor(CallLog)
                    .build(),
            ),
            region: region.to_string(),
            sdk: conf,
        }
    }

    /// The account the credentials belong to.
    pub async fn account_id(&self) -> Result<String, AwsError> {
        Ok(self.caller().await?.account)
    }

    /// Who the credentials are: the account and the caller's ARN.
    pub async fn caller(&self) -> Result<Caller, AwsError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .aws("GetCallerIdentity")?;
        Ok(Caller {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        })
    }
}

/// Who the credentials belong to, as STS says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The account id.
    pub account: String,
    /// The caller's ARN (a user, or an assumed role's session).
    pub arn: String,
}

/// Attempts the SDK makes at one call before giving up on throttling and server errors.
const MAX_ATTEMPTS: u32 = 8;

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

    /// True for the `*.NotFound` family (and IAM's `NoSuchEntity`): the resource is not there.
    pub fn is_not_found(&self) -> bool {
        self.code.as_deref().is_some_and(|c| {
            c.ends_with("NotFound") || c.ends_with("NotFoundException") || c == "NoSuchEntity"
        })
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
            // Throttling and server errors reach us only once the SDK's own retries ran out:
            // say so, or the message reads like a first-try failure.
            let retried = if retried_by_sdk(&e) {
                format!(" (still failing after {MAX_ATTEMPTS} attempts with backoff; gave up)")
            } else {
                String::new()
            };
            let detail = match (&e, e.code(), e.message()) {
                (_, Some(code), msg) if is_access_denied(code) => format!(
                    "{code}: {}. The credentials in use may not call {op}: grant it to them \
                     (README, \"Permissions\"), or use other credentials (AWS_PROFILE)",
                    msg.unwrap_or("access denied").trim_end_matches('.')
                ),
                (_, Some(code), Some(msg)) => format!("{code}: {msg}{retried}"),
                (_, Some(code), None) => format!("{code}{retried}"),
                (SdkError::DispatchFailure(_), _, _) if credentials_missing(&e) => format!(
                    "no usable AWS credentials ({}). Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and \
                     AWS_SECRET_ACCESS_KEY, or run `aws sso login`",
                    credentials_cause(&e)
                ),
                (SdkError::DispatchFailure(_), _, _) | (SdkError::TimeoutError(_), _, _) => {
                    format!(
                    "could not reach {} ({}); check the network, AWS_ENDPOINT_URL and the region",
                    std::env::var("AWS_ENDPOINT_URL")
                        .map(|u| format!("AWS_ENDPOINT_URL={u}"))
                        .unwrap_or_else(|_| "the AWS endpoint".to_string()),
                    root_cause(&e)
                )
                }
                _ => aws_sdk_ec2::error::DisplayErrorContext(&e).to_string(),
            };
            AwsError { op, code, detail }
        })
    }
}

/// True for the errors the SDK's standard classifiers retry: throttling codes and 5xx answers.
fn retried_by_sdk<E, R>(e: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
    R: std::fmt::Debug + 'static,
{
    const THROTTLING: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "EC2ThrottledException",
        "BandwidthLimitExceeded",
        "PriorRequestNotComplete",
    ];
    match e {
        SdkError::ServiceError(ctx) => {
            e.code().is_some_and(|c| THROTTLING.contains(&c))
                || server_error(ctx.raw() as &dyn std::any::Any)
        }
        _ => false,
    }
}

/// True when `raw` is an HTTP response with a 5xx status.
fn server_error(raw: &dyn std::any::Any) -> bool {
    raw.downcast_ref::<aws_smithy_runtime_api::http::Response>()
        .is_some_and(|r| r.status().is_server_error())
}

/// The innermost error's own message ("Connection refused (os error 111)"), without the
/// SDK's nested debug dump.
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// The codes services use for "these credentials may not do that".
/// True for the codes AWS services answer when the credentials may not make a call.
pub fn is_access_denied(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "UnauthorizedException"
    )
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

/// The one rule for "not found means absent": `None` when AWS says the thing does not exist.
pub fn absent_ok<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Sends a delete once (`send`, named `op` in errors); "already gone" is success.
pub async fn delete_once<T, E, R>(
    op: &'static str,
    send: impl std::future::Future<Output = Result<T, SdkError<E, R>>>,
) -> anyhow::Result<()>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    Ok(gone_ok(send.await.aws(op))?)
}

/// Treats "already gone" as success, for idempotent deletes.
pub fn gone_ok<T>(result: Result<T, AwsError>) -> Result<(), AwsError> {
    absent_ok(result).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn failed(status: u16, code: &str) -> AwsError {
        let err = GetCallerIdentityError::generic(
            ErrorMetadata::builder().code(code).message("boom").build(),
        );
        let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        Err::<(), _>(SdkError::service_error(err, raw))
            .aws("GetCallerIdentity")
            .unwrap_err()
    }

    #[test]
    fn errors_the_sdk_retried_say_it_gave_up() {
        for (status, code) in [
            (400, "Throttling"),
            (503, "RequestLimitExceeded"),
            (500, "InternalFailure"),
        ] {
            let e = failed(status, code);
            assert!(e.detail.contains("after 8 attempts"), "{}", e.detail);
            assert!(
                e.to_string().starts_with("GetCallerIdentity failed: "),
                "{e}"
            );
        }
    }

    #[test]
    fn errors_not_retried_read_as_aws_wrote_them() {
        let e = failed(400, "InvalidParameterValue");
        assert_eq!(e.detail, "InvalidParameterValue: boom");
    }
}
