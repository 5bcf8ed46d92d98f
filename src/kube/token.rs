//! EKS bearer tokens, made exactly as `aws eks get-token` makes them: an STS GetCallerIdentity
//! GET URL presigned with SigV4 (signature in the query), with the header `x-k8s-aws-id: <cluster>`
//! among the signed ones, behind the prefix `k8s-aws-v1.` and in unpadded base64url. EKS's
//! authenticator replays the URL to STS with that header to learn who is calling, so a token is
//! good for one cluster only.

use anyhow::{Context, Result};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_types::service_config::ServiceConfigKey;
use aws_types::SdkConfig;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::time::{Duration, SystemTime};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Every EKS token starts with this (the authenticator's token format, version 1).
pub const PREFIX: &str = "k8s-aws-v1.";

/// The header that binds a token to one cluster; it must be among the signed headers.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";

/// What `aws eks get-token` asks for (X-Amz-Expires=60).
pub const EXPIRES: Duration = Duration::from_secs(60);

/// A token is reused for at most this long: well within its 60 s, so that a request sent at
/// the end of it, from a clock a little ahead of the server's, still arrives in time.
const REUSE: Duration = Duration::from_secs(30);

/// Makes tokens for one cluster with the credentials and STS endpoint the SDK's clients use,
/// reusing each for a while (a credential chain that assumes a role would otherwise call STS
/// for every Kubernetes request).
pub struct TokenSource {
    credentials: SharedCredentialsProvider,
    region: String,
    sts_endpoint: String,
    cluster: String,
    last: Mutex<Option<(String, Instant)>>,
}

impl TokenSource {
    /// Tokens for `cluster`, signed for `region` with the credentials of `sdk`.
    pub fn new(sdk: &SdkConfig, region: &str, cluster: &str) -> Result<Self> {
        let credentials = sdk
            .credentials_provider()
            .context("no AWS credential provider is configured, so no EKS token can be made")?;
        Ok(TokenSource {
            credentials,
            region: region.to_string(),
            sts_endpoint: sts_endpoint(sdk, region),
            cluster: cluster.to_string(),
            last: Mutex::new(None),
        })
    }

    /// A token for the cluster, fresh enough for the request about to be sent.
    pub async fn token(&self) -> Result<String> {
        let mut last = self.last.lock().await;
        if let Some((token, made)) = last.as_ref() {
            if made.elapsed() < REUSE {
                return Ok(token.clone());
            }
        }
        let creds =
            self.credentials.provide_credentials().await.context(
                "no usable AWS credentials to make the EKS token for the Kubernetes API",
            )?;
        let url = presigned_url(
            &creds,
            &self.region,
            &self.sts_endpoint,
            &self.cluster,
            SystemTime::now(),
        )?;
        let token = encode(&url);
        *last = Some((token.clone(), Instant::now()));
        Ok(token)
    }
}

/// The STS endpoint the SDK's own STS client would call: `AWS_ENDPOINT_URL_STS`, then
/// `AWS_ENDPOINT_URL` (environment or profile), else the region's own STS endpoint, which is
/// what `aws eks get-token` signs for (never the global one).
fn sts_endpoint(sdk: &SdkConfig, region: &str) -> String {
    let service_specific = ServiceConfigKey::builder()
        .service_id("STS")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()
        .and_then(|key| sdk.service_config()?.load_config(key));
    service_specific
        .or_else(|| sdk.endpoint_url().map(str::to_string))
        .unwrap_or_else(|| regional_sts(region))
}

/// The regional STS endpoint of `region` (China's regions are under their own domain).
fn regional_sts(region: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://sts.{region}.{domain}")
}

/// The token for a presigned URL.
pub fn encode(url: &str) -> String {
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(url))
}

/// GetCallerIdentity at `sts_endpoint`, presigned at `now` with `creds` for `region`, the
/// cluster's name signed in as `x-k8s-aws-id`.
pub fn presigned_url(
    creds: &Credentials,
    region: &str,
    sts_endpoint: &str,
    cluster: &str,
    now: SystemTime,
) -> Result<String> {
    // The path must be "/": the authenticator refuses any other.
    let unsigned = format!(
        "{}/?Action=GetCallerIdentity&Version=2011-06-15",
        sts_endpoint.trim_end_matches('/')
    );
    let identity: Identity = creds.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(EXPIRES);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .context("SigV4 parameters for the EKS token")?
        .into();
    let headers = [(CLUSTER_ID_HEADER, cluster)];
    // The hash of the empty body, as botocore presigns for every service but S3 (whose
    // "UNSIGNED-PAYLOAD" STS does not take): STS checks the GET it receives, which has no body.
    let signable = SignableRequest::new(
        "GET",
        unsigned.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&[]),
    )
    .with_context(|| format!("{unsigned} cannot be signed"))?;
    let (instructions, _) = sign(signable, &params)
        .context("signing the EKS token")?
        .into_parts();
    let mut request = http::Request::builder()
        .uri(unsigned.as_str())
        .body(())
        .with_context(|| format!("{unsigned} is not a URL"))?;
    // The signer encodes the query exactly as it signed it.
    instructions.apply_to_request_http1x(&mut request);
    Ok(request.uri().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::time::UNIX_EPOCH;

    /// 2024-01-02T03:04:05Z.
    fn at() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_704_164_645)
    }

    fn creds(session: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session.map(str::to_string),
            None,
            "test",
        )
    }

    fn query(url: &str) -> BTreeMap<String, String> {
        let url = reqwest::Url::parse(url).expect("a URL");
        url.query_pairs().into_owned().collect()
    }

    #[test]
    fn token_is_a_prefixed_unpadded_base64url_presigned_get_caller_identity() {
        let url = presigned_url(
            &creds(Some("FQoGZXIvYXdzE+/session=token")),
            "us-east-1",
            "https://sts.us-east-1.amazonaws.com",
            "grpc-eks",
            at(),
        )
        .unwrap();
        let token = encode(&url);
        let body = token.strip_prefix(PREFIX).expect("k8s-aws-v1. prefix");
        assert!(
            body.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "not unpadded base64url: {body}"
        );
        let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
        assert_eq!(decoded, url);
        assert!(
            url.starts_with("https://sts.us-east-1.amazonaws.com/?"),
            "{url}"
        );
        let q = query(&url);
        assert_eq!(q["Action"], "GetCallerIdentity");
        assert_eq!(q["Version"], "2011-06-15");
        assert_eq!(q["X-Amz-Expires"], "60");
        assert_eq!(q["X-Amz-Date"], "20240102T030405Z");
        assert_eq!(
            q["X-Amz-Credential"],
            "AKIDEXAMPLE/20240102/us-east-1/sts/aws4_request"
        );
        let signed: Vec<&str> = q["X-Amz-SignedHeaders"].split(';').collect();
        assert!(signed.contains(&CLUSTER_ID_HEADER), "{signed:?}");
        assert!(signed.contains(&"host"), "{signed:?}");
        assert_eq!(q["X-Amz-Security-Token"], "FQoGZXIvYXdzE+/session=token");
    }

    /// The same signatures botocore's presigner (what `aws eks get-token` runs) computes for
    /// the same request, credentials and time.
    #[test]
    fn signatures_match_botocores() {
        for (session, endpoint, key, signature) in [
            (
                None,
                "https://sts.us-east-1.amazonaws.com",
                creds(None),
                "bf0719aea913166088f7692fcb9980226dc6a3d18eb74a81883598fcd26e80d7",
            ),
            (
                Some("FQoGZXIvYXdzE+/session=token"),
                "https://sts.us-east-1.amazonaws.com/",
                creds(Some("FQoGZXIvYXdzE+/session=token")),
                "01ac765933d03658c7b297ae384993230b3df336304d50f5a3e418eb553c4200",
            ),
            (
                None,
                "http://127.0.0.1:4566",
                Credentials::new("testing", "testing", None, None, "test"),
                "10684c0f44ae3f9878252b842d53a51f9f530e6621b44d50b4cd2cc9ebd7ae7b",
            ),
        ] {
            let url = presigned_url(&key, "us-east-1", endpoint, "grpc-eks", at()).unwrap();
            let q = query(&url);
            assert_eq!(q["X-Amz-Signature"], signature, "{session:?} {endpoint}");
            assert_eq!(q["X-Amz-SignedHeaders"], "host;x-k8s-aws-id");
        }
    }

    #[test]
    fn sts_is_the_regional_endpoint_unless_overridden() {
        assert_eq!(
            regional_sts("eu-west-1"),
            "https://sts.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            regional_sts("cn-north-1"),
            "https://sts.cn-north-1.amazonaws.com.cn"
        );
        let plain = SdkConfig::builder().build();
        assert_eq!(
            sts_endpoint(&plain, "us-east-2"),
            "https://sts.us-east-2.amazonaws.com"
        );
        let emulated = SdkConfig::builder()
            .endpoint_url("http://127.0.0.1:5000")
            .build();
        assert_eq!(
            sts_endpoint(&emulated, "us-east-2"),
            "http://127.0.0.1:5000"
        );
    }
}
