//! Limits the service enforces. Defaults are AWS's default quotas; every one can be changed
//! (AWS lets customers raise most of them, and tests lower them to exercise the errors).

#[derive(Clone, Debug)]
pub struct Quotas {
    pub domains_per_account: usize,
    pub fields_per_domain: usize,
    pub options_per_field: usize,
    pub templates_per_domain: usize,
    pub layouts_per_domain: usize,
    pub case_rules_per_domain: usize,
    pub related_items_per_case: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            domains_per_account: 5,
            fields_per_domain: 500,
            options_per_field: 500,
            templates_per_domain: 100,
            layouts_per_domain: 100,
            case_rules_per_domain: 100,
            related_items_per_case: 200,
        }
    }
}
