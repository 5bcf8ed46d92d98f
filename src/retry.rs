//! Waiting on AWS: bounded retries of the errors eventual consistency causes, and adaptive
//! polling until a resource reaches a state.

use crate::aws::{gone_ok, AwsError, AwsResultExt};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::fmt::Debug;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// A run's "stop waiting" signal: raised, every wait ends at once instead of sleeping on.
pub struct Abandon {
    raised: AtomicBool,
    wake: Notify,
}

/// The run's signal, raised by the first Ctrl-C: a wait for an EKS cluster would otherwise
/// hold the run for minutes, and abandoning it is safe (the next run finds the resource as it
/// is and waits for it then).
pub static RUN: Abandon = Abandon::new();

/// A wait given up because the run was interrupted.
#[derive(Debug, thiserror::Error)]
#[error("wait abandoned on Ctrl-C: the next run picks it up where it is")]
pub struct Abandoned;

/// The code an [`AwsError`] carries when its retries were abandoned.
const ABANDONED: &str = "infra.Abandoned";

impl Abandon {
    /// Not raised.
    pub const fn new() -> Self {
        Abandon {
            raised: AtomicBool::new(false),
            wake: Notify::const_new(),
        }
    }

    /// Ends every wait, now and from now on.
    pub fn raise(&self) {
        self.raised.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
    }

    /// Sleeps for `d`, unless the signal is (or gets) raised.
    pub async fn pause(&self, d: Duration) -> Result<(), Abandoned> {
        let woken = self.wake.notified();
        tokio::pin!(woken);
        // Registered before the flag is read, so a raise in between is not missed.
        woken.as_mut().enable();
        if self.raised.load(Ordering::SeqCst) {
            return Err(Abandoned);
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => Ok(()),
            _ = woken => Err(Abandoned),
        }
    }
}

/// True when `e` is (or was caused by) an abandoned wait.
pub fn abandoned(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<Abandoned>().is_some()
            || c.downcast_ref::<AwsError>()
                .is_some_and(|a| a.is(ABANDONED))
    })
}

/// How long to keep retrying an error that AWS's eventual consistency makes transient.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Give up once this much time has passed since the first try.
    pub total: Duration,
}

impl Budget {
    /// For ids of resources created a moment ago (EC2's `*.NotFound` right after a create).
    pub const FRESH_ID: Budget = Budget {
        total: Duration::from_secs(60),
    };
    /// For resources AWS releases asynchronously (ENIs of a deleted NAT gateway or ALB).
    pub const RELEASE: Budget = Budget {
        total: Duration::from_secs(600),
    };
}

/// Runs `call` until it succeeds, fails with an error `transient` rejects, or `budget` runs out;
/// waits grow exponentially with jitter between tries. The final error says how long it tried.
pub async fn eventually<T, F, Fut>(
    budget: Budget,
    transient: impl Fn(&AwsError) -> bool,
    mut call: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(250);
    let mut tries = 0u32;
    loop {
        tries += 1;
        match call().await {
            Err(e) if transient(&e) => {
                if start.elapsed() + delay > budget.total {
                    return Err(AwsError {
                        detail: format!(
                            "{} (still failing after {tries} tries over {:.0?}; gave up)",
                            e.detail,
                            start.elapsed()
                        ),
                        ..e
                    });
                }
                tracing::debug!(op = e.op, error = %e.detail, ?delay, "transient error, retrying");
                if RUN.pause(jitter(delay)).await.is_err() {
                    return Err(AwsError {
                        code: Some(ABANDONED.to_string()),
                        detail: format!("{} ({Abandoned})", e.detail),
                        ..e
                    });
                }
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            other => return other,
        }
    }
}

/// [`eventually`] for one SDK request: `send` sends it afresh each try, `op` names it in errors.
pub async fn send_eventually<T, E, R, Fut>(
    budget: Budget,
    transient: impl Fn(&AwsError) -> bool,
    op: &'static str,
    send: impl Fn() -> Fut,
) -> Result<T, AwsError>
where
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    eventually(budget, transient, || async { send().await.aws(op) }).await
}

/// Sends a delete until AWS lets go of the resource (`transient` errors are retried within
/// `budget`); "already gone" is success.
pub async fn delete_eventually<T, E, R, Fut>(
    budget: Budget,
    transient: impl Fn(&AwsError) -> bool,
    op: &'static str,
    send: impl Fn() -> Fut,
) -> anyhow::Result<()>
where
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    Ok(gone_ok(send_eventually(budget, transient, op, send).await)?)
}

/// Between half and all of `d`, so that parallel retries spread out.
fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.5 + fastrand::f64() * 0.5)
}

/// Error codes meaning "the id I just got back is not visible yet".
pub fn not_found_yet(e: &AwsError) -> bool {
    e.is_not_found()
}

/// Error codes meaning "something still holds on to this; it is being released".
pub fn still_in_use(e: &AwsError) -> bool {
    e.is("DependencyViolation") || e.is("InvalidIPAddress.InUse")
}

/// Polls `check` until it yields a value. Polls start fast and slow down to every 2 s, so a
/// state change is noticed within about 2 s however long the wait (AWS's CLI waiters poll
/// every 15 to 30 s).
pub async fn poll_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if start.elapsed() > timeout {
            anyhow::bail!("gave up waiting for {what} after {:.0?}", start.elapsed());
        }
        RUN.pause(delay).await?;
        delay = (delay * 3 / 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_raised_signal_ends_waits_at_once_and_is_told_apart() {
        let signal = Abandon::new();
        assert!(signal.pause(Duration::from_millis(1)).await.is_ok());
        let long = signal.pause(Duration::from_secs(3600));
        let raise = async {
            tokio::task::yield_now().await;
            signal.raise();
        };
        let (waited, ()) = tokio::join!(long, raise);
        assert!(waited.is_err());
        assert!(signal.pause(Duration::from_secs(3600)).await.is_err());
        assert!(abandoned(
            &anyhow::Error::new(Abandoned).context("eks/cluster")
        ));
        assert!(!abandoned(&anyhow::anyhow!("gave up waiting")));
    }

    fn err(code: &str) -> AwsError {
        AwsError {
            op: "Op",
            code: Some(code.to_string()),
            detail: code.to_string(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_retried_until_success() {
        let mut n = 0;
        let r = eventually(Budget::FRESH_ID, not_found_yet, || {
            n += 1;
            let ok = n >= 3;
            async move {
                if ok {
                    Ok(n)
                } else {
                    Err(err("InvalidVpcID.NotFound"))
                }
            }
        })
        .await;
        assert_eq!(r.unwrap(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_are_not_retried() {
        let mut n = 0;
        let r: Result<(), _> = eventually(Budget::FRESH_ID, not_found_yet, || {
            n += 1;
            async { Err(err("InvalidParameterValue")) }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(n, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_at_the_budget_and_say_so() {
        let r: Result<(), _> = eventually(Budget::FRESH_ID, still_in_use, || async {
            Err(err("DependencyViolation"))
        })
        .await;
        let e = r.unwrap_err();
        assert!(e.detail.contains("gave up"), "{}", e.detail);
    }
}
