//! One run at a time per stack: a lease on the stack's item in a DynamoDB table of the account.
//!
//! DynamoDB because one conditional write is an atomic create-if-absent that can also take over
//! an expired lease (`attribute_not_exists(stack) OR expires < now`), and it answers a refusal
//! with the holder's item in the same call. S3 conditional writes need an ETag read first to
//! take over, and a bucket whose name is global. Terraform's S3 backend locked this way for
//! years. The table is shared by every stack in the account and region, created on first use.

use crate::aws::{Aws, AwsError, AwsResultExt, Caller};
use crate::retry::poll_until;
use anyhow::{Context, Result};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableStatus,
};
use aws_smithy_runtime_api::client::result::SdkError;
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The lock table, one per account and region.
pub const TABLE: &str = "infra-locks";
/// Overrides the lease length, in seconds (tests use a few seconds).
const LEASE_ENV: &str = "INFRA_LOCK_LEASE_SECONDS";
/// Long enough to ride out a slow renewal, short enough that a killed run frees the stack soon.
const DEFAULT_LEASE: Duration = Duration::from_secs(120);

/// Who holds a stack's lock, as its item records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// The caller's ARN.
    pub arn: String,
    /// The machine the run is on.
    pub host: String,
    /// The run's process id.
    pub pid: u32,
    /// The command line it runs.
    pub command: String,
    /// When it took the lock (RFC 3339).
    pub since: String,
    /// When the lease ends unless renewed (seconds since the epoch).
    pub expires: u64,
    /// Tells this holder's lease from any later one.
    token: String,
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let left = self.expires.saturating_sub(now());
        write!(
            f,
            "{} (host {}, pid {}, `{}`, since {}; lease ends in {left}s unless renewed)",
            self.arn, self.host, self.pid, self.command, self.since
        )
    }
}

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another run holds it.
    #[error(
        "stack {stack} is locked by {holder}. Nothing was changed. Wait for that run to finish \
         (or pass --lock-timeout 15m to wait for it); if it is dead, the lock frees itself when \
         its lease ends, or release it now with `infra unlock`"
    )]
    Held {
        /// The stack.
        stack: String,
        /// Who holds it.
        holder: Box<Holder>,
    },
    /// AWS refused or could not be reached.
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// A held lock: renewed in the background until [`Lock::release`].
pub struct Lock {
    aws: Aws,
    stack: String,
    token: String,
    renewer: JoinHandle<()>,
    lost: watch::Receiver<bool>,
}

/// The lease length: [`DEFAULT_LEASE`] unless `INFRA_LOCK_LEASE_SECONDS` says otherwise.
pub fn lease() -> Duration {
    std::env::var(LEASE_ENV)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_LEASE)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Takes the lock of `stack` for `caller`, waiting up to `timeout` while another run holds it.
/// `waiting` is told about the holder once, when the wait starts.
pub async fn acquire(
    aws: &Aws,
    stack: &str,
    caller: &Caller,
    timeout: Duration,
    waiting: impl Fn(&Holder),
) -> Result<Lock, LockError> {
    let lease = lease();
    let me = Holder {
        arn: caller.arn.clone(),
        host: gethostname::gethostname().to_string_lossy().into_owned(),
        pid: std::process::id(),
        command: command_line(),
        since: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        expires: 0,
        token: format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
    };
    let start = Instant::now();
    let mut told = false;
    loop {
        match take(aws, stack, &me, lease).await {
            Ok(()) => break,
            Err(LockError::Held { holder, .. }) if start.elapsed() < timeout => {
                if !told {
                    waiting(&holder);
                    told = true;
                }
                let left = timeout.saturating_sub(start.elapsed());
                tokio::time::sleep(left.min(Duration::from_secs(2))).await;
            }
            Err(e) => return Err(e),
        }
    }
    let (lost_tx, lost) = watch::channel(false);
    let renewer = tokio::spawn(renew(
        aws.clone(),
        stack.to_string(),
        me.token.clone(),
        lease,
        lost_tx,
    ));
    Ok(Lock {
        aws: aws.clone(),
        stack: stack.to_string(),
        token: me.token,
        renewer,
        lost,
    })
}

/// `infra <args>`, as the holder's record shows it.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("infra {}", args.join(" "))
}

/// One attempt: writes the item if there is none or its lease has ended.
async fn take(aws: &Aws, stack: &str, me: &Holder, lease: Duration) -> Result<(), LockError> {
    let mut created_table = false;
    loop {
        let t = now();
        let item = item(stack, me, t + lease.as_secs());
        let sent = aws
            .dynamodb
            .put_item()
            .table_name(TABLE)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#s) OR #e < :now")
            .expression_attribute_names("#s", "stack")
            .expression_attribute_names("#e", "expires")
            .expression_attribute_values(":now", AttributeValue::N(t.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        if let Err(SdkError::ServiceError(ctx)) = &sent {
            if let PutItemError::ConditionalCheckFailedException(c) = ctx.err() {
                let holder = c.item().and_then(holder_of).unwrap_or_else(unknown_holder);
                return Err(LockError::Held {
                    stack: stack.to_string(),
                    holder: Box::new(holder),
                });
            }
        }
        match sent.aws("PutItem") {
            Ok(_) => return Ok(()),
            Err(e) if e.is("ResourceNotFoundException") && !created_table => {
                ensure_table(aws).await?;
                created_table = true;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn unknown_holder() -> Holder {
    Holder {
        arn: "an unknown caller".to_string(),
        host: "?".to_string(),
        pid: 0,
        command: "?".to_string(),
        since: "?".to_string(),
        expires: 0,
        token: String::new(),
    }
}

fn item(stack: &str, me: &Holder, expires: u64) -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.to_string());
    HashMap::from([
        ("stack".to_string(), s(stack)),
        ("holder".to_string(), s(&me.arn)),
        ("host".to_string(), s(&me.host)),
        ("pid".to_string(), AttributeValue::N(me.pid.to_string())),
        ("command".to_string(), s(&me.command)),
        ("since".to_string(), s(&me.since)),
        (
            "expires".to_string(),
            AttributeValue::N(expires.to_string()),
        ),
        ("token".to_string(), s(&me.token)),
    ])
}

fn holder_of(item: &HashMap<String, AttributeValue>) -> Option<Holder> {
    let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let n = |k: &str| item.get(k).and_then(|v| v.as_n().ok())?.parse().ok();
    Some(Holder {
        arn: s("holder")?,
        host: s("host").unwrap_or_default(),
        pid: n("pid").unwrap_or_default() as u32,
        command: s("command").unwrap_or_default(),
        since: s("since").unwrap_or_default(),
        expires: n("expires").unwrap_or_default(),
        token: s("token").unwrap_or_default(),
    })
}

/// Creates the lock table (on-demand, so an idle one costs nothing) and waits until it is
/// ACTIVE. A run that loses the race to create it waits for the winner's.
async fn ensure_table(aws: &Aws) -> Result<(), AwsError> {
    let key = |k: &str| {
        KeySchemaElement::builder()
            .attribute_name(k)
            .key_type(KeyType::Hash)
            .build()
    };
    let def = AttributeDefinition::builder()
        .attribute_name("stack")
        .attribute_type(ScalarAttributeType::S)
        .build();
    let created = aws
        .dynamodb
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(vec![key("stack").map_err(builder)?]))
        .set_attribute_definitions(Some(vec![def.map_err(builder)?]))
        .send()
        .await
        .aws("CreateTable");
    match created {
        Err(e) if !e.is("ResourceInUseException") => return Err(e),
        _ => {}
    }
    let active = || async {
        let out = aws
            .dynamodb
            .describe_table()
            .table_name(TABLE)
            .send()
            .await
            .aws("DescribeTable")?;
        let status = out.table().and_then(|t| t.table_status());
        Ok((status == Some(&TableStatus::Active)).then_some(()))
    };
    poll_until(
        &format!("lock table {TABLE} to be ACTIVE"),
        Duration::from_secs(120),
        active,
    )
    .await
    .map_err(|e| AwsError {
        op: "DescribeTable",
        code: None,
        detail: format!("{e:#}"),
    })
}

fn builder(e: aws_sdk_dynamodb::error::BuildError) -> AwsError {
    AwsError {
        op: "CreateTable",
        code: None,
        detail: e.to_string(),
    }
}

/// Pushes the lease forward every quarter lease while the run lives; tells `lost` when another
/// run took the lock (released by `infra unlock`, or taken over after renewals kept failing).
async fn renew(aws: Aws, stack: String, token: String, lease: Duration, lost: watch::Sender<bool>) {
    let every = lease / 4;
    loop {
        tokio::time::sleep(every).await;
        let sent = aws
            .dynamodb
            .update_item()
            .table_name(TABLE)
            .key("stack", AttributeValue::S(stack.clone()))
            .update_expression("SET #e = :e")
            .condition_expression("#t = :t")
            .expression_attribute_names("#e", "expires")
            .expression_attribute_names("#t", "token")
            .expression_attribute_values(
                ":e",
                AttributeValue::N((now() + lease.as_secs()).to_string()),
            )
            .expression_attribute_values(":t", AttributeValue::S(token.clone()))
            .send()
            .await
            .aws("UpdateItem");
        match sent {
            Ok(_) => {}
            Err(e) if e.is("ConditionalCheckFailedException") => {
                tracing::warn!(
                    "the lock of stack {stack} was released (infra unlock) or taken over"
                );
                let _ = lost.send(true);
                return;
            }
            // A missed renewal is retried at the next turn; the lease outlives three of them.
            Err(e) => tracing::warn!("could not renew the lock of stack {stack}: {e}"),
        }
    }
}

impl Lock {
    /// Resolves when another run has taken the lock from this one.
    pub fn lost(&self) -> watch::Receiver<bool> {
        self.lost.clone()
    }

    /// Stops renewing and deletes the item, unless another run holds it by now.
    pub async fn release(self) -> Result<()> {
        self.renewer.abort();
        delete_held(&self.aws, &self.stack, &self.token)
            .await
            .map(|_| ())
            .with_context(|| format!("could not release the lock of stack {}", self.stack))
    }
}

/// Deletes the lock item of `stack` if lease `token` still holds it; false when another did.
async fn delete_held(aws: &Aws, stack: &str, token: &str) -> Result<bool, AwsError> {
    let sent = aws
        .dynamodb
        .delete_item()
        .table_name(TABLE)
        .key("stack", AttributeValue::S(stack.to_string()))
        .condition_expression("#t = :t")
        .expression_attribute_names("#t", "token")
        .expression_attribute_values(":t", AttributeValue::S(token.to_string()))
        .send()
        .await
        .aws("DeleteItem");
    match sent {
        Ok(_) => Ok(true),
        Err(e) if e.is("ConditionalCheckFailedException") => Ok(false),
        Err(e) => Err(e),
    }
}

/// Who holds the lock of `stack` now, if anyone (an expired lease counts as free).
pub async fn holder(aws: &Aws, stack: &str) -> Result<Option<Holder>, AwsError> {
    let out = aws
        .dynamodb
        .get_item()
        .table_name(TABLE)
        .key("stack", AttributeValue::S(stack.to_string()))
        .consistent_read(true)
        .send()
        .await
        .aws("GetItem");
    let out = match out {
        Err(e) if e.is("ResourceNotFoundException") => return Ok(None),
        other => other?,
    };
    Ok(out
        .item()
        .and_then(holder_of)
        .filter(|h| h.expires >= now()))
}

/// Deletes the lock of `stack` if `holder` still holds it; false when someone else took it
/// meanwhile (then nothing was deleted).
pub async fn force_release(aws: &Aws, stack: &str, holder: &Holder) -> Result<bool, AwsError> {
    delete_held(aws, stack, &holder.token).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_reads_back_as_its_holder() {
        let me = Holder {
            arn: "arn:aws:iam::123456789012:user/ci".to_string(),
            host: "runner-1".to_string(),
            pid: 42,
            command: "infra apply".to_string(),
            since: "2026-11-26T23:00:00Z".to_string(),
            expires: 0,
            token: "abc".to_string(),
        };
        let back = holder_of(&item("s", &me, 99)).expect("holder");
        assert_eq!(back, Holder { expires: 99, ..me });
    }

    #[test]
    fn an_item_without_a_holder_is_not_read_as_one() {
        assert_eq!(holder_of(&HashMap::new()), None);
    }

    #[test]
    fn the_holder_message_names_who_where_and_what() {
        let h = Holder {
            arn: "arn:aws:sts::1:assumed-role/ci/run".to_string(),
            host: "h".to_string(),
            pid: 7,
            command: "infra destroy".to_string(),
            since: "t".to_string(),
            expires: now() + 60,
            token: String::new(),
        };
        let msg = LockError::Held {
            stack: "s".to_string(),
            holder: Box::new(h),
        }
        .to_string();
        for part in [
            "assumed-role/ci/run",
            "host h",
            "pid 7",
            "`infra destroy`",
            "infra unlock",
        ] {
            assert!(msg.contains(part), "{part} missing from: {msg}");
        }
    }
}
