//! ARNs in the config (a certificate, a Git connection), split by AWS's ARN grammar:
//! `arn:<partition>:<service>:<region>:<12-digit account>:<resource>`.

/// The parts of an ARN whose partition, region and account have AWS's shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, then any `-word`s: `aws-cn`, `aws-us-gov`, `aws-iso-b`.
    pub partition: &'a str,
    /// The service's ARN namespace (`acm`, `codeconnections`).
    pub service: &'a str,
    /// Lowercase letters, digits and hyphens, not empty.
    pub region: &'a str,
    /// Twelve digits.
    pub account: &'a str,
    /// Everything after the account.
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits `text`, when it is an ARN with a regional, account-owned resource.
    pub fn parse(text: &'a str) -> Option<Arn<'a>> {
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        let [scheme, partition, service, region, account, resource] = parts[..] else {
            return None;
        };
        let partition_ok = partition == "aws"
            || partition.strip_prefix("aws-").is_some_and(|rest| {
                rest.split('-')
                    .all(|p| !p.is_empty() && p.chars().all(word))
            });
        let ok = scheme == "arn"
            && partition_ok
            && !service.is_empty()
            && !region.is_empty()
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit());
        ok.then_some(Arn {
            partition,
            service,
            region,
            account,
            resource,
        })
    }
}

/// A `\w` character of AWS's patterns.
pub fn word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_arns_split() {
        let a = Arn::parse("arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/x").unwrap();
        assert_eq!(
            (a.partition, a.service, a.region, a.account, a.resource),
            (
                "aws-us-gov",
                "acm",
                "us-gov-west-1",
                "123456789012",
                "certificate/x"
            )
        );
        for bad in [
            "arn:aws:acm:us-east-1:1234:certificate/x",
            "arn:aws:acm::123456789012:certificate/x",
            "arn:gcp:acm:us-east-1:123456789012:certificate/x",
            "arn:aws-:acm:us-east-1:123456789012:certificate/x",
            "urn:aws:acm:us-east-1:123456789012:certificate/x",
            "arn:aws:acm:US-EAST-1:123456789012:certificate/x",
            "arn:aws:acm:us-east-1:123456789012",
        ] {
            assert_eq!(Arn::parse(bad), None, "{bad}");
        }
    }
}
