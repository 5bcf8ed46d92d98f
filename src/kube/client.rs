//! A minimal Kubernetes API client: the namespace calls `infra` makes (list, get, create,
//! merge-patch, delete), each with a fresh-enough EKS token, over HTTPS that trusts only the
//! cluster's own CA.

use super::token::TokenSource;
use crate::aws::{root_cause, Aws};
use anyhow::{bail, Context, Result};
use aws_sdk_eks::types::Cluster as EksCluster;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Attempts at one request while the API answers 429 or 5xx, or cannot be reached.
const ATTEMPTS: u32 = 5;

/// One cluster's Kubernetes API.
pub struct Kube {
    http: reqwest::Client,
    /// The endpoint, without a trailing slash (the emulator's has a path of its own).
    base: String,
    cluster: String,
    tokens: TokenSource,
}

/// A namespace as the API shows it, reduced to what `infra` looks at.
#[derive(Clone, Debug, PartialEq)]
pub struct Namespace {
    /// Its name.
    pub name: String,
    /// The id the API server gave it.
    pub uid: String,
    /// Every label, the API server's own `kubernetes.io/metadata.name` included.
    pub labels: BTreeMap<String, String>,
    /// Set once it is being deleted: Kubernetes removes everything in it, then it.
    pub terminating: bool,
}

/// What went wrong with a request, by what the caller does about it.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// 404: no such object.
    #[error("{0}: not found")]
    NotFound(Detail),
    /// 409 AlreadyExists: the name is taken (also by an object still being deleted).
    #[error("{0}: already exists")]
    AlreadyExists(Detail),
    /// 409 for anything else, such as deleting a namespace already being deleted.
    #[error("{0}: conflict")]
    Conflict(Detail),
    /// 401 or 403: the cluster did not take these credentials, or they may not do this.
    #[error(
        "{0}. infra makes the service's namespace through the Kubernetes API as whoever runs it, \
         which needs admin rights in the cluster: the identity that created the cluster has them \
         (EKS makes it admin); other credentials need an EKS access entry with \
         AmazonEKSClusterAdminPolicy"
    )]
    Denied(Detail),
    /// Any other answer, or none.
    #[error("{0}")]
    Failed(Detail),
}

/// The request that failed and the API's (or the network's) reason.
#[derive(Debug)]
pub struct Detail {
    /// What was asked, e.g. `CreateNamespace`.
    pub op: &'static str,
    /// The cluster and object, e.g. `namespace grpc-app in cluster grpc-eks`.
    pub target: String,
    /// The HTTP status, when the API answered.
    pub status: Option<u16>,
    /// The API's message, or why there was no answer.
    pub message: String,
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} failed", self.op, self.target)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl Kube {
    /// The API of `cluster` as DescribeCluster shows it (endpoint and CA), called with the
    /// credentials the AWS clients use.
    pub fn for_cluster(aws: &Aws, cluster: &EksCluster) -> Result<Self> {
        let name = cluster
            .name()
            .context("DescribeCluster returned a cluster without a name")?;
        let endpoint = cluster.endpoint().with_context(|| {
            format!("EKS reports no Kubernetes API endpoint for cluster {name} (yet)")
        })?;
        let ca = cluster.certificate_authority().and_then(|c| c.data());
        Kube::new(aws, name, endpoint, ca)
    }

    /// The API of cluster `name` at `endpoint`, trusting only the CA in `ca` (base64 PEM, as
    /// EKS reports it). Plain http is accepted only on a loopback address (a local emulator).
    pub fn new(aws: &Aws, name: &str, endpoint: &str, ca: Option<&str>) -> Result<Self> {
        let url = Url::parse(endpoint)
            .with_context(|| format!("cluster {name}'s endpoint {endpoint:?} is not a URL"))?;
        let builder = reqwest::Client::builder()
            .user_agent(concat!("infra/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30));
        let builder = match url.scheme() {
            "https" => {
                let ca = ca.with_context(|| {
                    format!("EKS reports no certificate authority for cluster {name}")
                })?;
                builder
                    .tls_certs_only(cluster_ca(name, ca)?)
                    .https_only(true)
            }
            // Nothing on a loopback address needs a proxy, and nothing else may be plain text.
            "http" if is_loopback(&url) => builder.no_proxy(),
            _ => bail!(
                "cluster {name}'s endpoint {endpoint} is neither https nor a loopback address: \
                 infra will not send a token over it"
            ),
        };
        Ok(Kube {
            http: builder
                .build()
                .context("setting up the HTTPS client for the Kubernetes API")?,
            base: endpoint.trim_end_matches('/').to_string(),
            cluster: name.to_string(),
            tokens: TokenSource::new(&aws.sdk, &aws.region, name)?,
        })
    }

    /// Every namespace in the cluster.
    pub async fn list_namespaces(&self) -> Result<Vec<Namespace>, KubeError> {
        let op = "ListNamespaces";
        let target = format!("namespaces in cluster {}", self.cluster);
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            // The API pages long lists; a cluster rarely holds more than one page.
            let mut path = "/api/v1/namespaces?limit=500".to_string();
            if let Some(token) = &next {
                path.push_str("&continue=");
                path.push_str(&form_encode(token));
            }
            let body = self.send(op, &target, Method::GET, &path, None).await?;
            let list: NamespaceList = parse(op, &target, &body)?;
            out.extend(list.items.into_iter().map(Namespace::from));
            next = list
                .metadata
                .and_then(|m| m.continue_)
                .filter(|c| !c.is_empty());
            if next.is_none() {
                return Ok(out);
            }
        }
    }

    /// Namespace `name`; `None` when there is none.
    pub async fn get_namespace(&self, name: &str) -> Result<Option<Namespace>, KubeError> {
        let op = "GetNamespace";
        let target = self.target(name);
        let path = format!("/api/v1/namespaces/{name}");
        match self.send(op, &target, Method::GET, &path, None).await {
            Ok(body) => Ok(Some(parse::<WireNamespace>(op, &target, &body)?.into())),
            Err(KubeError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates namespace `name` with `labels`; [`KubeError::AlreadyExists`] when it is taken.
    pub async fn create_namespace(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<Namespace, KubeError> {
        let op = "CreateNamespace";
        let target = self.target(name);
        let body = json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": labels},
        });
        let answer = self
            .send(
                op,
                &target,
                Method::POST,
                "/api/v1/namespaces",
                Some(("application/json", body)),
            )
            .await?;
        Ok(parse::<WireNamespace>(op, &target, &answer)?.into())
    }

    /// Sets the labels in `labels` and removes those mapped to `None` (a JSON merge patch).
    pub async fn patch_namespace_labels(
        &self,
        name: &str,
        labels: &BTreeMap<String, Option<String>>,
    ) -> Result<Namespace, KubeError> {
        let op = "PatchNamespace";
        let target = self.target(name);
        let body = json!({"metadata": {"labels": labels}});
        let path = format!("/api/v1/namespaces/{name}");
        let answer = self
            .send(
                op,
                &target,
                Method::PATCH,
                &path,
                Some(("application/merge-patch+json", body)),
            )
            .await?;
        Ok(parse::<WireNamespace>(op, &target, &answer)?.into())
    }

    /// Starts deleting namespace `name` (Kubernetes then removes what is in it, then it).
    pub async fn delete_namespace(&self, name: &str) -> Result<(), KubeError> {
        let target = self.target(name);
        let path = format!("/api/v1/namespaces/{name}");
        self.send("DeleteNamespace", &target, Method::DELETE, &path, None)
            .await
            .map(|_| ())
    }

    fn target(&self, name: &str) -> String {
        format!("namespace {name} in cluster {}", self.cluster)
    }

    /// Sends one request, retrying what a busy or restarting API server answers (429, 5xx)
    /// and failed connections; returns the body of a 2xx answer.
    async fn send(
        &self,
        op: &'static str,
        target: &str,
        method: Method,
        path: &str,
        body: Option<(&str, Json)>,
    ) -> Result<Vec<u8>, KubeError> {
        let url = format!("{}{path}", self.base);
        let failed = |status: Option<u16>, message: String| Detail {
            op,
            target: target.to_string(),
            status,
            message,
        };
        let mut delay = Duration::from_millis(250);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self
                .tokens
                .token()
                .await
                .map_err(|e| KubeError::Failed(failed(None, format!("{e:#}"))))?;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header(AUTHORIZATION, format!("Bearer {token}"))
                .header(ACCEPT, "application/json");
            if let Some((content_type, json)) = &body {
                req = req
                    .header(CONTENT_TYPE, *content_type)
                    .body(json.to_string());
            }
            let last = attempt == ATTEMPTS;
            let sent = Instant::now();
            let result = req.send().await;
            log_attempt(op, result.as_ref().ok().map(|a| a.status()), sent, attempt);
            let answer = match result {
                Ok(answer) => answer,
                // A refused connection (an API server restarting) is retried; a timeout (an
                // endpoint this machine cannot reach) only once, or a private endpoint seen from
                // outside its VPC would take a minute to say so.
                Err(e)
                    if !last
                        && (e.is_connect() || e.is_timeout())
                        && !(e.is_timeout() && attempt > 1) =>
                {
                    tracing::debug!(op, error = %e, ?delay, "Kubernetes API unreachable, retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    continue;
                }
                Err(e) => {
                    return Err(KubeError::Failed(failed(
                        None,
                        format!(
                            "could not reach the Kubernetes API at {} ({}); infra must run \
                             where the cluster's endpoint is reachable (from an address in \
                             eks.public_access_cidrs, or inside the VPC for a private endpoint)",
                            self.base,
                            root_cause(&e)
                        ),
                    )))
                }
            };
            let status = answer.status();
            let bytes = answer
                .bytes()
                .await
                .map_err(|e| KubeError::Failed(failed(Some(status.as_u16()), root_cause(&e))))?;
            if status.is_success() {
                return Ok(bytes.to_vec());
            }
            if !last && (status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()) {
                tracing::debug!(op, %status, ?delay, "Kubernetes API busy, retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
                continue;
            }
            let (reason, message) = status_of(&bytes);
            return Err(classify(
                status,
                &reason,
                failed(Some(status.as_u16()), message),
            ));
        }
    }
}

/// `-v`: one line per attempt, beside the AWS calls' (`call_log`).
fn log_attempt(op: &str, status: Option<StatusCode>, sent: Instant, attempt: u32) {
    let outcome = status.map_or("no response".to_string(), |s| s.as_u16().to_string());
    let millis = sent.elapsed().as_millis();
    let retry = if attempt > 1 {
        format!(" (attempt {attempt})")
    } else {
        String::new()
    };
    tracing::info!(target: "infra::aws", "Kubernetes {op} -> {outcome} in {millis} ms{retry}");
}

/// The error for an answer with `status` and Status `reason` (which tells the 409s apart).
fn classify(status: StatusCode, reason: &str, detail: Detail) -> KubeError {
    match status {
        StatusCode::NOT_FOUND => KubeError::NotFound(detail),
        StatusCode::CONFLICT if reason == "AlreadyExists" => KubeError::AlreadyExists(detail),
        StatusCode::CONFLICT => KubeError::Conflict(detail),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => KubeError::Denied(detail),
        _ => KubeError::Failed(detail),
    }
}

/// The `reason` of a Kubernetes Status body and the message to show (`reason: message`, or
/// the start of the body when it is no Status).
fn status_of(body: &[u8]) -> (String, String) {
    #[derive(Deserialize)]
    struct Status {
        #[serde(default)]
        reason: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Status>(body) {
        // The API server's 401 says only "Unauthorized", as both reason and message.
        Ok(s) if !s.reason.is_empty() && s.message.starts_with(&s.reason) => (s.reason, s.message),
        Ok(s) if !s.reason.is_empty() => {
            let message = format!("{}: {}", s.reason, s.message);
            (s.reason, message)
        }
        Ok(s) if !s.message.is_empty() => (String::new(), s.message),
        _ => (
            String::new(),
            String::from_utf8_lossy(body).chars().take(300).collect(),
        ),
    }
}

fn parse<T: for<'de> Deserialize<'de>>(
    op: &'static str,
    target: &str,
    body: &[u8],
) -> Result<T, KubeError> {
    serde_json::from_slice(body).map_err(|e| {
        KubeError::Failed(Detail {
            op,
            target: target.to_string(),
            status: None,
            message: format!("the API's answer is not what Kubernetes sends: {e}"),
        })
    })
}

fn form_encode(s: &str) -> String {
    Url::parse_with_params("http://x/", [("v", s)])
        .ok()
        .and_then(|u| u.query().map(|q| q.trim_start_matches("v=").to_string()))
        .unwrap_or_default()
}

/// True for `localhost` and loopback addresses, the only hosts plain http may go to.
fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// The cluster's CA certificates, from DescribeCluster's base64 PEM.
fn cluster_ca(cluster: &str, data: &str) -> Result<Vec<reqwest::Certificate>> {
    let pem = STANDARD
        .decode(data.trim())
        .with_context(|| format!("cluster {cluster}'s certificate authority is not base64"))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .with_context(|| format!("cluster {cluster}'s certificate authority is not PEM"))?;
    if certs.is_empty() {
        bail!("cluster {cluster}'s certificate authority holds no certificate");
    }
    Ok(certs)
}

#[derive(Deserialize)]
struct NamespaceList {
    #[serde(default)]
    items: Vec<WireNamespace>,
    #[serde(default)]
    metadata: Option<ListMeta>,
}

#[derive(Deserialize)]
struct ListMeta {
    #[serde(default, rename = "continue")]
    continue_: Option<String>,
}

/// A namespace as the API sends it (only the fields `infra` reads).
#[derive(Deserialize)]
struct WireNamespace {
    metadata: WireMeta,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMeta {
    name: String,
    #[serde(default)]
    uid: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    deletion_timestamp: Option<String>,
}

impl From<WireNamespace> for Namespace {
    fn from(n: WireNamespace) -> Self {
        Namespace {
            name: n.metadata.name,
            uid: n.metadata.uid,
            labels: n.metadata.labels,
            terminating: n.metadata.deletion_timestamp.is_some(),
        }
    }
}

impl Namespace {
    /// A namespace from the API's JSON for it (GET /api/v1/namespaces/{name}).
    #[cfg(test)]
    pub fn from_json(body: &[u8]) -> Result<Self> {
        let wire: WireNamespace = serde_json::from_slice(body)?;
        Ok(wire.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(message: &str) -> Detail {
        Detail {
            op: "CreateNamespace",
            target: "namespace a in cluster c".into(),
            status: Some(409),
            message: message.into(),
        }
    }

    #[test]
    fn status_reasons_become_typed_errors() {
        let body = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"namespaces \"a\" already exists","reason":"AlreadyExists","code":409}"#;
        let (reason, msg) = status_of(body);
        assert_eq!(msg, r#"AlreadyExists: namespaces "a" already exists"#);
        assert!(matches!(
            classify(StatusCode::CONFLICT, &reason, detail(&msg)),
            KubeError::AlreadyExists(_)
        ));
        assert!(matches!(
            classify(StatusCode::CONFLICT, "Conflict", detail("being deleted")),
            KubeError::Conflict(_)
        ));
        assert!(matches!(
            classify(StatusCode::NOT_FOUND, "NotFound", detail("")),
            KubeError::NotFound(_)
        ));
        assert!(matches!(
            classify(StatusCode::FORBIDDEN, "Forbidden", detail("")),
            KubeError::Denied(_)
        ));
        let (reason, msg) = status_of(b"<html>oops</html>");
        assert_eq!((reason.as_str(), msg.as_str()), ("", "<html>oops</html>"));
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let yes = [
            "http://127.0.0.1:5000/_k8s/c",
            "http://[::1]:80",
            "http://localhost",
        ];
        for u in yes {
            assert!(is_loopback(&Url::parse(u).unwrap()), "{u}");
        }
        let no = [
            "http://10.0.0.1",
            "http://example.com",
            "http://127.0.0.1.nip.io",
        ];
        for u in no {
            assert!(!is_loopback(&Url::parse(u).unwrap()), "{u}");
        }
    }

    #[test]
    fn the_cluster_ca_must_be_base64_pem() {
        assert!(cluster_ca("c", "not base64 !").is_err());
        assert!(cluster_ca("c", &STANDARD.encode("no certificate here")).is_err());
    }

    #[test]
    fn continue_tokens_are_query_encoded() {
        assert_eq!(form_encode("a b/c=="), "a+b%2Fc%3D%3D");
    }
}
