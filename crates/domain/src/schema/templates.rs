//! Templates: which fields a case must have, its layout, its rules, and tags to propagate.

use crate::store::ResourceRecord;
use caseload_model::shapes::{
    LayoutConfiguration, TagPropagationConfiguration, TemplateRule, TemplateStatus,
};
use caseload_model::{Error, Result};
use serde::{Deserialize, Serialize};

/// The stored body of a template. `v` is the document version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateDoc {
    pub v: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout_configuration: Option<LayoutConfiguration>,
    /// Ids of the fields a case created from this template must have.
    #[serde(default)]
    pub required_fields: Vec<String>,
    pub status: TemplateStatus,
    #[serde(default)]
    pub rules: Vec<TemplateRule>,
    #[serde(default)]
    pub tag_propagation_configurations: Vec<TagPropagationConfiguration>,
}

impl TemplateDoc {
    pub fn from_record(r: &ResourceRecord) -> Result<TemplateDoc> {
        serde_json::from_value(r.body.clone()).map_err(Error::internal)
    }
}
