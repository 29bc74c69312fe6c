//! Amazon Resource Names of Cases resources:
//! `arn:aws:cases:{region}:{account}:domain/{domainId}[/{kind}/{id}[/related-item/{id}]]`.

/// A parsed Cases ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arn {
    pub region: String,
    pub account_id: String,
    pub domain_id: String,
    /// The resource inside the domain, if the ARN is not the domain's own.
    pub resource: Option<(String, String)>,
}

pub fn domain(region: &str, account: &str, domain_id: &str) -> String {
    format!("arn:aws:cases:{region}:{account}:domain/{domain_id}")
}

/// The ARN of a resource of `kind` (`field`, `template`, `layout`, `case`, `case-rule`) in a domain.
pub fn resource(region: &str, account: &str, domain_id: &str, kind: &str, id: &str) -> String {
    format!("{}/{kind}/{id}", domain(region, account, domain_id))
}

/// The ARN of a related item of a case.
pub fn related_item(
    region: &str,
    account: &str,
    domain_id: &str,
    case_id: &str,
    related_item_id: &str,
) -> String {
    format!(
        "{}/related-item/{related_item_id}",
        resource(region, account, domain_id, "case", case_id)
    )
}

impl Arn {
    pub fn parse(s: &str) -> Option<Arn> {
        let mut parts = s.splitn(6, ':');
        let (arn, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
        let (region, account, rest) = (parts.next()?, parts.next()?, parts.next()?);
        if arn != "arn" || partition.is_empty() || service != "cases" || region.is_empty() {
            return None;
        }
        let segments: Vec<&str> = rest.split('/').collect();
        let resource = match segments.as_slice() {
            ["domain", d] if !d.is_empty() => return Some(Arn::new(region, account, d, None)),
            ["domain", d, kind, id] if !d.is_empty() && !id.is_empty() => {
                Some(((*kind).to_owned(), (*id).to_owned()))
            }
            _ => return None,
        };
        Some(Arn::new(region, account, segments[1], resource))
    }

    fn new(
        region: &str,
        account: &str,
        domain_id: &str,
        resource: Option<(String, String)>,
    ) -> Arn {
        Arn {
            region: region.to_owned(),
            account_id: account.to_owned(),
            domain_id: domain_id.to_owned(),
            resource,
        }
    }
}

/// Whether `s` is the ARN of an Amazon Connect resource of `kind` (`queue`, `contact`, `file`):
/// `arn:PARTITION:connect:REGION:ACCOUNT:instance/INSTANCE_ID/{kind}/ID`.
pub(crate) fn is_connect(s: &str, kind: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, service, _region, _account, resource] = parts.as_slice() else {
        return false;
    };
    let segments: Vec<&str> = resource.split('/').collect();
    *arn == "arn"
        && !partition.is_empty()
        && *service == "connect"
        && matches!(segments.as_slice(), ["instance", i, k, id] if !i.is_empty() && *k == kind && !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_arns() {
        assert!(is_connect(
            "arn:aws:connect:us-east-1:000000000000:instance/i-1/contact/c-1",
            "contact"
        ));
        assert!(!is_connect(
            "arn:aws:connect:us-east-1:000000000000:instance/i-1/file/c-1",
            "contact"
        ));
        assert!(!is_connect("contact-1", "contact"));
        assert!(!is_connect(
            "arn:aws:connect:us-east-1:1:instance//contact/c",
            "contact"
        ));
    }

    #[test]
    fn round_trip() {
        let a = resource("us-east-1", "000000000000", "d-1", "field", "f-1");
        assert_eq!(
            a,
            "arn:aws:cases:us-east-1:000000000000:domain/d-1/field/f-1"
        );
        let p = Arn::parse(&a).unwrap();
        assert_eq!(p.domain_id, "d-1");
        assert_eq!(p.resource, Some(("field".into(), "f-1".into())));
        assert_eq!(
            Arn::parse(&domain("eu-west-2", "1", "d")).unwrap().resource,
            None
        );
        for bad in [
            "",
            "arn:aws:s3:::bucket",
            "arn:aws:cases:us-east-1:1:domain/",
            "arn:aws:cases:us-east-1:1:thing/x",
            "arn:aws:cases:us-east-1:1:domain/d/field",
        ] {
            assert!(Arn::parse(bad).is_none(), "{bad}");
        }
    }
}
