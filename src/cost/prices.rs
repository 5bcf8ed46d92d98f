//! Hourly prices from AWS's Price List API (`pricing:GetProducts`), cached on disk for a week.

use super::usage::Meter;
use crate::aws::{Aws, AwsError, AwsResultExt};
use aws_sdk_pricing::types::{Filter, FilterType};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Prices change a few times a year; a week-old price is still the price.
const CACHE_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

/// The Price List API lives in three regions only, and serves every region's prices from each.
pub const PRICING_REGION: &str = "us-east-1";

/// USD per hour for each meter that has a price in the region.
pub type Prices = BTreeMap<Meter, f64>;

/// Why no price could be read: said in one line, and the plan goes on.
#[derive(Debug, thiserror::Error)]
pub enum Unpriced {
    /// The credentials may not call the Price List API.
    #[error("these credentials may not call pricing:GetProducts ({0}); grant it to see what the stack costs")]
    Denied(String),
    /// Any other failure: network, throttling past retries, a malformed answer.
    #[error("the Price List API failed: {0}")]
    Failed(String),
}

/// The one Price List query that prices `meter` in `region`: a service code, exact-match
/// filters, and the suffix of the `usagetype` that tells the hourly product apart from others
/// the filters return (usage types carry a region prefix, `USE1-`, that differs by service).
fn query(meter: &Meter, region: &str) -> (&'static str, Vec<(&'static str, String)>, String) {
    let at = |family: &str| {
        vec![
            ("regionCode", region.to_string()),
            ("productFamily", family.to_string()),
        ]
    };
    match meter {
        Meter::EksStandard => (
            "AmazonEKS",
            vec![("regionCode", region.to_string())],
            "AmazonEKS-Hours:perCluster".into(),
        ),
        Meter::EksExtended => (
            "AmazonEKS",
            vec![("regionCode", region.to_string())],
            "AmazonEKS-Hours:extendedSupport".into(),
        ),
        Meter::NatGateway => ("AmazonEC2", at("NAT Gateway"), "NatGateway-Hours".into()),
        Meter::LoadBalancer => (
            "AWSELB",
            at("Load Balancer-Application"),
            "LoadBalancerUsage".into(),
        ),
        Meter::PublicIpv4 => (
            "AmazonVPC",
            vec![("regionCode", region.to_string())],
            "PublicIPv4:InUseAddress".into(),
        ),
        Meter::VpcEndpoint => ("AmazonVPC", at("VpcEndpoint"), "VpcEndpoint-Hours".into()),
        Meter::Instance(t) => {
            let mut f = at("Compute Instance");
            f.extend([
                ("instanceType", t.clone()),
                ("operatingSystem", "Linux".into()),
                ("tenancy", "Shared".into()),
                ("preInstalledSw", "NA".into()),
                ("capacitystatus", "Used".into()),
            ]);
            ("AmazonEC2", f, format!("BoxUsage:{t}"))
        }
    }
}

/// The hourly USD price in one price-list document, when its usage type ends with `suffix`.
fn price_in(document: &str, suffix: &str) -> Option<f64> {
    let doc: Json = serde_json::from_str(document).ok()?;
    let usage = doc.pointer("/product/attributes/usagetype")?.as_str()?;
    // us-east-1's usage types have no region prefix ("BoxUsage:m5.large"), others do.
    if !(usage == suffix || usage.ends_with(&format!("-{suffix}"))) {
        return None;
    }
    let terms = doc.pointer("/terms/OnDemand")?.as_object()?;
    terms
        .values()
        .filter_map(|offer| offer.get("priceDimensions")?.as_object())
        .flat_map(|dims| dims.values())
        .filter(|d| d.get("unit").and_then(Json::as_str) == Some("Hrs"))
        .find_map(|d| {
            d.pointer("/pricePerUnit/USD")?
                .as_str()?
                .parse::<f64>()
                .ok()
        })
}

/// Asks the Price List API for `meter`'s hourly price in `region`; `None` when no product
/// matches (an instance type the region does not sell).
async fn fetch_one(aws: &Aws, meter: &Meter, region: &str) -> Result<Option<f64>, AwsError> {
    let (service, filters, suffix) = query(meter, region);
    let filters: Vec<Filter> = filters
        .into_iter()
        .filter_map(|(field, value)| {
            Filter::builder()
                .r#type(FilterType::TermMatch)
                .field(field)
                .value(value)
                .build()
                .ok()
        })
        .collect();
    let mut next: Option<String> = None;
    loop {
        let page = aws
            .pricing
            .get_products()
            .service_code(service)
            .set_filters(Some(filters.clone()))
            .format_version("aws_v1")
            .max_results(100)
            .set_next_token(next.take())
            .send()
            .await
            .aws("GetProducts")?;
        if let Some(p) = page.price_list().iter().find_map(|d| price_in(d, &suffix)) {
            return Ok(Some(p));
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => return Ok(None),
        }
    }
}

/// One cached price.
#[derive(Serialize, Deserialize)]
struct Cached {
    /// USD per hour; `None` when AWS has no such product in the region.
    usd_per_hour: Option<f64>,
    /// When it was read (Unix seconds).
    read_at: u64,
}

/// `$XDG_CACHE_HOME/infra/prices.json`, else `~/.cache/infra/prices.json`.
fn cache_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("infra").join("prices.json"))
}

/// The cache key: prices read from another endpoint (an emulator) never answer for AWS's.
fn key(meter: &Meter, region: &str) -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "aws".into());
    format!("{endpoint} {region} {}", meter.key())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The hourly prices of `meters` in `region`: from the cache when fresh, else from the Price
/// List API (one query per meter, all at once), then cached.
pub async fn read(aws: &Aws, region: &str, meters: &BTreeSet<Meter>) -> Result<Prices, Unpriced> {
    let file = cache_file();
    let mut cache: BTreeMap<String, Cached> = file
        .as_ref()
        .and_then(|f| std::fs::read(f).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let fresh = |c: &Cached| now().saturating_sub(c.read_at) < CACHE_FOR.as_secs();
    let mut prices = Prices::new();
    let mut missing = Vec::new();
    for m in meters {
        match cache.get(&key(m, region)) {
            Some(c) if fresh(c) => {
                if let Some(p) = c.usd_per_hour {
                    prices.insert(m.clone(), p);
                }
            }
            _ => missing.push(m.clone()),
        }
    }
    if missing.is_empty() {
        return Ok(prices);
    }
    let answers =
        futures::future::join_all(missing.iter().map(|m| fetch_one(aws, m, region))).await;
    for (m, answer) in missing.into_iter().zip(answers) {
        let price = answer.map_err(|e| {
            if e.code.as_deref().is_some_and(crate::aws::is_access_denied) {
                Unpriced::Denied(e.code.unwrap_or_default())
            } else {
                Unpriced::Failed(e.to_string())
            }
        })?;
        if let Some(p) = price {
            prices.insert(m.clone(), p);
        }
        cache.insert(
            key(&m, region),
            Cached {
                usd_per_hour: price,
                read_at: now(),
            },
        );
    }
    if let Some(f) = file {
        // A cache that cannot be written only means asking again next time.
        let written = f
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&f, serde_json::to_vec_pretty(&cache)?));
        if let Err(e) = written {
            tracing::debug!("cannot cache prices in {}: {e}", f.display());
        }
    }
    Ok(prices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document(usagetype: &str, usd: &str) -> String {
        json!({
            "product": {"productFamily": "NAT Gateway", "attributes": {"usagetype": usagetype, "regionCode": "eu-west-1"}, "sku": "ABC"},
            "terms": {"OnDemand": {"ABC.JRTCKXETXF": {"priceDimensions": {"ABC.JRTCKXETXF.6YS6EN2CT7": {
                "unit": "Hrs", "pricePerUnit": {"USD": usd}, "description": "$0.048 per NAT Gateway Hour"}}}}}
        })
        .to_string()
    }

    #[test]
    fn the_usage_type_suffix_picks_the_hourly_product() {
        assert_eq!(
            price_in(
                &document("EU-NatGateway-Hours", "0.0480000000"),
                "NatGateway-Hours"
            ),
            Some(0.048)
        );
        assert_eq!(
            price_in(&document("NatGateway-Hours", "0.045"), "NatGateway-Hours"),
            Some(0.045)
        );
        assert_eq!(
            price_in(
                &document("EU-NatGateway-Bytes", "0.048"),
                "NatGateway-Hours"
            ),
            None
        );
        // A suffix must match whole parts: "xNatGateway-Hours" is another product.
        assert_eq!(
            price_in(&document("EU-xNatGateway-Hours", "1"), "NatGateway-Hours"),
            None
        );
        assert_eq!(price_in("not json", "NatGateway-Hours"), None);
    }

    #[test]
    fn every_meter_is_queried_in_its_region() {
        for m in [
            Meter::EksStandard,
            Meter::EksExtended,
            Meter::NatGateway,
            Meter::LoadBalancer,
            Meter::PublicIpv4,
            Meter::VpcEndpoint,
            Meter::Instance("m5.large".into()),
        ] {
            let (_, filters, _) = query(&m, "eu-west-1");
            assert!(
                filters.contains(&("regionCode", "eu-west-1".to_string())),
                "{m}"
            );
        }
        let (service, filters, suffix) = query(&Meter::Instance("t3.medium".into()), "x");
        assert_eq!(service, "AmazonEC2");
        assert!(filters.contains(&("instanceType", "t3.medium".to_string())));
        assert_eq!(suffix, "BoxUsage:t3.medium");
    }
}
