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
    /// File related items per case ("Files that can be attached to a case").
    pub files_per_case: usize,
    /// Sla related items per case ("SLAs that can be attached to a case").
    pub slas_per_case: usize,
    /// Fields in one Custom related item ("Fields in a Custom type related item").
    pub fields_per_custom_item: usize,
    /// Fields placed in one layout ("Case fields per case layout"; AWS does not raise it).
    pub fields_per_layout: usize,
    /// How many fields, templates and layouts of a domain may be deleted: the DeleteField,
    /// DeleteTemplate and DeleteLayout documentation says "You can delete up to 100 … per domain".
    pub deleted_fields_per_domain: usize,
    pub deleted_templates_per_domain: usize,
    pub deleted_layouts_per_domain: usize,
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
            files_per_case: 50,
            slas_per_case: 10,
            fields_per_custom_item: 5,
            fields_per_layout: 100,
            deleted_fields_per_domain: 100,
            deleted_templates_per_domain: 100,
            deleted_layouts_per_domain: 100,
        }
    }
}
