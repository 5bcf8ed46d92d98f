//! `-v`: one line per AWS call attempt (service, operation, HTTP status, duration, attempt),
//! from an SDK interceptor, so it covers every call, retries included.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::time::Instant;

/// Logs each attempt at `info` under the target `infra::aws` (shown with `-v`).
#[derive(Debug, Clone, Copy, Default)]
pub struct CallLog;

/// When the current attempt was sent.
#[derive(Debug, Clone)]
struct AttemptStart(Instant);

impl Storable for AttemptStart {
    type Storer = StoreReplace<Self>;
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "infra::CallLog"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(AttemptStart(Instant::now()));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_else(|| ("?".into(), "?".into()));
        let millis = cfg
            .load::<AttemptStart>()
            .map(|s| s.0.elapsed().as_millis())
            .unwrap_or_default();
        let attempt = cfg
            .load::<RequestAttempts>()
            .map(|a| a.attempts())
            .unwrap_or(1);
        let outcome = match context.response() {
            Some(r) => r.status().as_u16().to_string(),
            // No response at all: the connection failed or timed out.
            None => "no response".to_string(),
        };
        let retry = if attempt > 1 {
            format!(" (attempt {attempt})")
        } else {
            String::new()
        };
        tracing::info!(target: "infra::aws", "{service} {operation} -> {outcome} in {millis} ms{retry}");
        Ok(())
    }
}
