//! Read-only checks of what only the account knows, made before plan and apply change anything:
//! the zones exist and are available, the instance types are offered in every zone, and the
//! certificate is issued in the stack's region. Every problem is reported at once, at its field.

use crate::aws::{Aws, AwsError, AwsResultExt};
use crate::config::{Config, Loaded, Locations, Problem};
use anyhow::Result;
use aws_sdk_acm::types::CertificateStatus;
use aws_sdk_ec2::types::{AvailabilityZoneState, Filter, LocationType};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What the account says about the config, as plain data the checks read.
#[derive(Debug, Default)]
pub struct Facts {
    /// The region's zones (opted in), by name, with their state.
    pub zones: BTreeMap<String, String>,
    /// `(instance type, zone)` pairs EC2 offers.
    pub offered: BTreeSet<(String, String)>,
    /// The certificate's status (`ISSUED`, `PENDING_VALIDATION`, ...), or `None` when ACM has
    /// no such certificate in the region.
    pub certificate: Option<Option<String>>,
}

/// The config does not fit the account; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub struct Unfit {
    /// File name as shown to the user.
    pub file: String,
    /// Everything that does not fit.
    pub problems: Vec<Problem>,
}

impl fmt::Display for Unfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{} does not fit the account ({n} problem{}):",
            self.file,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        write!(f, "\nNothing was changed.")
    }
}

/// Reads the facts the checks need: two EC2 calls, and one ACM call with a certificate.
pub async fn read(aws: &Aws, config: &Config) -> Result<Facts, AwsError> {
    let zone_names: Vec<String> = config
        .network
        .zones
        .iter()
        .map(|z| z.name.clone())
        .collect();
    let (zones, offered, certificate) = tokio::join!(
        zones(aws),
        offerings(aws, &config.eks.instance_types, &zone_names),
        certificate(aws, config.alb.certificate_arn.as_deref())
    );
    Ok(Facts {
        zones: zones?,
        offered: offered?,
        certificate: certificate?,
    })
}

async fn zones(aws: &Aws) -> Result<BTreeMap<String, String>, AwsError> {
    // Without zone names the call lists the region's opted-in zones; with an unknown name it
    // would fail as a whole instead of saying which one is unknown.
    let out = aws
        .ec2
        .describe_availability_zones()
        .send()
        .await
        .aws("DescribeAvailabilityZones")?;
    Ok(out
        .availability_zones()
        .iter()
        .filter_map(|z| {
            let state = z.state().map_or("unknown", AvailabilityZoneState::as_str);
            Some((z.zone_name()?.to_string(), state.to_string()))
        })
        .collect())
}

async fn offerings(
    aws: &Aws,
    types: &[String],
    zones: &[String],
) -> Result<BTreeSet<(String, String)>, AwsError> {
    let mut out = BTreeSet::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws
            .ec2
            .describe_instance_type_offerings()
            .location_type(LocationType::AvailabilityZone)
            .filters(
                Filter::builder()
                    .name("instance-type")
                    .set_values(Some(types.to_vec()))
                    .build(),
            )
            .filters(
                Filter::builder()
                    .name("location")
                    .set_values(Some(zones.to_vec()))
                    .build(),
            )
            .set_next_token(next.take())
            .send()
            .await
            .aws("DescribeInstanceTypeOfferings")?;
        for o in page.instance_type_offerings() {
            if let (Some(t), Some(z)) = (o.instance_type(), o.location()) {
                out.insert((t.as_str().to_string(), z.to_string()));
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

async fn certificate(aws: &Aws, arn: Option<&str>) -> Result<Option<Option<String>>, AwsError> {
    let Some(arn) = arn else {
        return Ok(None);
    };
    match aws
        .acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .aws("DescribeCertificate")
    {
        Ok(out) => Ok(Some(
            out.certificate()
                .and_then(|c| c.status())
                .map(|s| s.as_str().to_string()),
        )),
        Err(e) if e.is("ResourceNotFoundException") => Ok(Some(None)),
        Err(e) => Err(e),
    }
}

/// Everything in `config` the account cannot take, located in the file.
pub fn check(config: &Config, facts: &Facts, locations: &Locations) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut report = |field: String, message: String| {
        let at = locations.get(&field);
        problems.push(Problem {
            line: at.map(|a| a.0),
            column: at.map(|a| a.1),
            field,
            message,
        });
    };
    let region = &config.region;
    let mut usable = Vec::new();
    for (i, z) in config.network.zones.iter().enumerate() {
        let field = format!("network.zones[{i}].name");
        match facts.zones.get(&z.name).map(String::as_str) {
            Some("available") => usable.push(z.name.as_str()),
            Some(state) => report(
                field,
                format!(
                    "zone {} is {state}: EC2 cannot place subnets and nodes there now; choose \
                     another zone",
                    z.name
                ),
            ),
            None => report(
                field,
                format!(
                    "{:?} is not a zone of {region} this account can use (its zones: {})",
                    z.name,
                    facts.zones.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ),
        }
    }
    for (i, t) in config.eks.instance_types.iter().enumerate() {
        let missing: Vec<&str> = usable
            .iter()
            .copied()
            .filter(|z| !facts.offered.contains(&(t.clone(), z.to_string())))
            .collect();
        if !missing.is_empty() {
            report(
                format!("eks.instance_types[{i}]"),
                format!(
                    "EC2 does not offer {t} in {}: the node group needs it in every zone; choose \
                     a type offered there, or other zones",
                    missing.join(", ")
                ),
            );
        }
    }
    if let (Some(arn), Some(status)) = (&config.alb.certificate_arn, &facts.certificate) {
        let field = "alb.certificate_arn".to_string();
        match status.as_deref() {
            Some(s) if s == CertificateStatus::Issued.as_str() => {}
            Some(s) => report(
                field,
                format!(
                    "the certificate is {s}, not ISSUED: the HTTPS listener cannot use it until \
                     ACM issues it (finish its DNS or email validation)"
                ),
            ),
            None => report(
                field,
                format!("ACM has no certificate {arn} in {region} for this account"),
            ),
        }
    }
    problems
}

/// Reads the facts and checks `loaded` against them: `Unfit` when anything does not fit.
pub async fn run(aws: &Aws, loaded: &Loaded) -> Result<()> {
    let facts = read(aws, &loaded.config).await?;
    let problems = check(&loaded.config, &facts, &Locations::of(&loaded.text));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Unfit {
            file: loaded.file.clone(),
            problems,
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, DEFAULT_YAML};

    fn facts() -> Facts {
        let mut f = Facts::default();
        for (z, state) in [
            ("us-east-1a", "available"),
            ("us-east-1b", "available"),
            ("us-east-1c", "impaired"),
        ] {
            f.zones.insert(z.into(), state.into());
        }
        for z in ["us-east-1a", "us-east-1b", "us-east-1c"] {
            f.offered.insert(("t3.medium".into(), z.into()));
        }
        f.offered.insert(("m5.large".into(), "us-east-1c".into()));
        f
    }

    fn problems(text: &str, facts: &Facts) -> Vec<String> {
        let config = parse(text).unwrap();
        check(&config, facts, &Locations::of(text))
            .iter()
            .map(Problem::to_string)
            .collect()
    }

    #[test]
    fn the_default_config_fits_an_account_that_has_its_zones_and_type() {
        assert_eq!(problems(DEFAULT_YAML, &facts()), Vec::<String>::new());
    }

    #[test]
    fn every_misfit_is_reported_at_once_at_its_field() {
        let text = DEFAULT_YAML
            .replace("us-east-1b", "us-east-1f")
            .replace("[t3.medium]", "[t3.medium, m5.large]");
        let p = problems(&text, &facts());
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(
            p[0].contains("network.zones[1].name: \"us-east-1f\" is not a zone of us-east-1"),
            "{p:#?}"
        );
        assert!(p[0].starts_with("line "), "{p:#?}");
        // Only the usable zones count for offerings: us-east-1f is already reported.
        assert!(
            p[1].contains("eks.instance_types[1]: EC2 does not offer m5.large in us-east-1a:"),
            "{p:#?}"
        );
    }

    #[test]
    fn an_impaired_zone_is_refused() {
        let text = DEFAULT_YAML.replace("us-east-1b", "us-east-1c");
        let p = problems(&text, &facts());
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(p[0].contains("zone us-east-1c is impaired"), "{p:#?}");
    }

    #[test]
    fn a_certificate_must_exist_and_be_issued() {
        let arn =
            "arn:aws:acm:us-east-1:123456789012:certificate/0c9a6bd3-8c0e-4c7c-9d0f-3f6f1b6e2a41";
        let text =
            DEFAULT_YAML.replace("certificate_arn: null", &format!("certificate_arn: {arn}"));
        let mut f = facts();
        f.certificate = Some(Some("PENDING_VALIDATION".into()));
        let p = problems(&text, &f);
        assert!(
            p[0].contains("alb.certificate_arn: the certificate is PENDING_VALIDATION, not ISSUED"),
            "{p:#?}"
        );
        f.certificate = Some(None);
        let p = problems(&text, &f);
        assert!(p[0].contains("ACM has no certificate"), "{p:#?}");
        f.certificate = Some(Some("ISSUED".into()));
        assert_eq!(problems(&text, &f), Vec::<String>::new());
    }
}
