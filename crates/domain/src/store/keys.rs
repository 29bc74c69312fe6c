//! What a backend finds a record by. Keys are owned and passed by value: a backend moves them
//! into its transaction (or its statement's parameters) without copying them again.

use super::records::{CaseRecord, DomainRecord, RelatedItemRecord, ResourceKind, ResourceRecord};

/// A domain: the account it belongs to and its id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainKey {
    pub account_id: String,
    pub domain_id: String,
}

/// A case of a domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseKey {
    pub domain: DomainKey,
    pub case_id: String,
}

/// A field, template, layout or case rule of a domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResourceKey {
    pub domain: DomainKey,
    pub kind: ResourceKind,
    pub id: String,
}

/// A related item of a case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RelatedItemKey {
    pub case: CaseKey,
    pub related_item_id: String,
}

/// A `clientToken` of an operation in a domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey {
    pub domain: DomainKey,
    pub operation: &'static str,
    pub token: String,
}

impl DomainKey {
    pub fn new(account_id: &str, domain_id: &str) -> DomainKey {
        DomainKey {
            account_id: account_id.to_owned(),
            domain_id: domain_id.to_owned(),
        }
    }

    /// The case `case_id` of this domain.
    pub fn case(self, case_id: &str) -> CaseKey {
        CaseKey {
            domain: self,
            case_id: case_id.to_owned(),
        }
    }

    /// The resource `kind`/`id` of this domain.
    pub fn resource(self, kind: ResourceKind, id: &str) -> ResourceKey {
        ResourceKey {
            domain: self,
            kind,
            id: id.to_owned(),
        }
    }
}

impl TokenKey {
    pub fn new(domain: DomainKey, operation: &'static str, token: &str) -> TokenKey {
        TokenKey {
            domain,
            operation,
            token: token.to_owned(),
        }
    }
}

impl CaseKey {
    pub fn new(account_id: &str, domain_id: &str, case_id: &str) -> CaseKey {
        DomainKey::new(account_id, domain_id).case(case_id)
    }

    /// The related item `related_item_id` of this case.
    pub fn item(self, related_item_id: &str) -> RelatedItemKey {
        RelatedItemKey {
            case: self,
            related_item_id: related_item_id.to_owned(),
        }
    }
}

impl CaseRecord {
    /// The key this case is stored under.
    pub fn key(&self) -> CaseKey {
        CaseKey::new(&self.account_id, &self.domain_id, &self.case_id)
    }
}

impl DomainRecord {
    /// The key this domain is stored under.
    pub fn key(&self) -> DomainKey {
        DomainKey::new(&self.account_id, &self.domain_id)
    }
}

impl ResourceRecord {
    /// The key this resource is stored under.
    pub fn key(&self) -> ResourceKey {
        DomainKey::new(&self.account_id, &self.domain_id).resource(self.kind, &self.id)
    }
}

impl RelatedItemRecord {
    /// The key this item is stored under (`key` is its position in a search's order).
    pub fn item_key(&self) -> RelatedItemKey {
        CaseKey::new(&self.account_id, &self.domain_id, &self.case_id).item(&self.related_item_id)
    }
}
