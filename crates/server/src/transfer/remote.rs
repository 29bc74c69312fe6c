//! Import through a running server, with the API calls any client could make: the server
//! assigns new ids (the file's are mapped to them as lines arrive) and writes the values only it
//! writes (reference numbers, `*_datetime`, `case_id`) itself, so those differ from the file.
//!
//! A file can describe states the API only reaches step by step: a case holding a value of a
//! field deleted since, an option deactivated since, made from a template that is now inactive or
//! requires fields the case predates. So resources are created live and permissive first, the
//! cases next, and what the file says last (`Finish`): required fields and rules of templates,
//! inactive templates and options, deletions.
//!
//! Related items can only be made with CreateRelatedItem, after every case exists: each gets a
//! new id and an association time of its creation, an SLA a target time as far from its
//! creation as the file's was from its association (and the status that follows), a contact
//! the channel and times the server derives; a linked case points at the linked case's new id.
//! Nothing in the API sets a related item's tags or last updating user, so those are not
//! carried. What is kept: the item's case, type, content otherwise, who created it
//! (`performedBy`), and the order of a case's items.
//!
//! The file is checked whole before the first call. If a call fails, what the import created is
//! removed again: the domain it created, or, in an existing domain, the resources and cases.

use super::lines::{Lines, check_file};
use super::progress::Progress;
use caseload_client::{CallError, Client};
use caseload_domain::schema::fields::system_field;
use caseload_domain::transfer::format::*;
use caseload_model::OperationInput;
use caseload_model::shapes::*;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use tokio::task::JoinSet;

pub struct RemoteImport {
    pub file: PathBuf,
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
    pub domain_id: Option<String>,
    pub name: Option<String>,
    /// CreateCase calls in flight.
    pub concurrency: usize,
    pub quiet: bool,
}

/// The kinds of schema resource the import creates and may delete again.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Resource {
    // In the order of `Finish::deletions`: templates and layouts before the fields and rules
    // they may name.
    Template,
    Layout,
    CaseRule,
    Field,
}

/// Ids the import created, for removing them again.
#[derive(Default)]
struct Created {
    domain: bool,
    cases: Vec<String>,
    /// Schema resources, in creation order.
    resources: Vec<(Resource, String)>,
}

/// What the file says that the API can only do after the cases exist.
#[derive(Default)]
struct Finish {
    /// UpdateTemplate calls: required fields, rules and status.
    templates: Vec<UpdateTemplateRequest>,
    /// (field id, its id in the file, options to deactivate).
    options: Vec<(String, String, Vec<FieldOption>)>,
    /// Resources to delete.
    deletions: Vec<(Resource, String)>,
}

struct Session {
    client: Client,
    domain_id: String,
    domain_arn: String,
    /// File id → server id.
    ids: HashMap<String, String>,
    /// File case id → server case id.
    cases: HashMap<String, String>,
    created: Created,
    finish: Finish,
}

/// A call whose failure reads "Operation: error".
async fn call<I: OperationInput>(client: &Client, input: &I) -> Result<I::Output, String> {
    client
        .execute(input)
        .await
        .map_err(|e: CallError| format!("{}: {e}", I::OPERATION.name()))
}

pub async fn run(args: RemoteImport) -> Result<super::direct::Imported, String> {
    let plan = check_file(&args.file, args.quiet)?;
    let client = Client::new(
        &args.endpoint,
        &args.access_key_id,
        &args.secret_access_key,
        &args.region,
    );
    let (domain_id, name, created_domain) = match &args.domain_id {
        None => {
            let name = args
                .name
                .clone()
                .unwrap_or_else(|| plan.domain.name.clone());
            let out = client
                .execute(&CreateDomainRequest { name: name.clone() })
                .await
                .map_err(|e| format!("cannot create domain '{name}': {e}"))?;
            (out.domain_id, name, true)
        }
        Some(id) => {
            let name = check_empty(&client, id).await?;
            (id.clone(), name, false)
        }
    };
    let domain = call(
        &client,
        &GetDomainRequest {
            domain_id: domain_id.clone(),
        },
    )
    .await?;
    let mut s = Session {
        client,
        domain_arn: domain.domain_arn,
        domain_id: domain_id.clone(),
        ids: HashMap::new(),
        cases: HashMap::new(),
        created: Created {
            domain: created_domain,
            ..Default::default()
        },
        finish: Finish::default(),
    };
    match upload(&mut s, &args).await {
        Ok((schema_resources, cases)) => Ok(super::direct::Imported {
            domain_id,
            name,
            schema_resources,
            cases,
        }),
        Err(e) => {
            s.undo().await;
            Err(format!("{e}; nothing was imported"))
        }
    }
}

/// The name of domain `id` if it holds nothing but its system fields.
async fn check_empty(client: &Client, id: &str) -> Result<String, String> {
    let domain_id = || id.to_owned();
    let domain = call(
        client,
        &GetDomainRequest {
            domain_id: domain_id(),
        },
    )
    .await?;
    let fields = call(
        client,
        &ListFieldsRequest {
            domain_id: domain_id(),
            max_results: None,
            next_token: None,
        },
    )
    .await?;
    let mut busy = fields
        .fields
        .iter()
        .any(|f| f.namespace == FieldNamespace::Custom);
    let templates = call(
        client,
        &ListTemplatesRequest {
            domain_id: domain_id(),
            max_results: None,
            next_token: None,
            status: None,
        },
    )
    .await?;
    busy |= !templates.templates.is_empty();
    let layouts = call(
        client,
        &ListLayoutsRequest {
            domain_id: domain_id(),
            max_results: None,
            next_token: None,
        },
    )
    .await?;
    busy |= !layouts.layouts.is_empty();
    let cases = call(
        client,
        &SearchCasesRequest {
            domain_id: domain_id(),
            fields: None,
            filter: None,
            max_results: Some(1),
            next_token: None,
            search_term: None,
            sorts: None,
        },
    )
    .await?;
    busy |= cases.total_count.unwrap_or(0) > 0;
    if busy {
        return Err(format!(
            "domain {id} is not empty (it has custom fields, templates, layouts or cases)"
        ));
    }
    Ok(domain.name)
}

/// `v` with every string that is a file id replaced by the server's id for it. Ids are UUIDs,
/// so a value that merely looks like one does not occur. Rules, layouts and templates name
/// fields (and rules) anywhere in their structure, so the walk goes through their JSON form.
fn remapped<T>(v: &T, ids: &HashMap<String, String>) -> Result<T, String>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    fn walk(v: &mut Json, ids: &HashMap<String, String>) {
        match v {
            Json::String(s) => {
                if let Some(new) = ids.get(s.as_str()) {
                    *s = new.clone();
                }
            }
            Json::Array(a) => a.iter_mut().for_each(|x| walk(x, ids)),
            Json::Object(o) => o.values_mut().for_each(|x| walk(x, ids)),
            _ => {}
        }
    }
    let mut json = serde_json::to_value(v).map_err(|e| e.to_string())?;
    walk(&mut json, ids);
    serde_json::from_value(json).map_err(|e| e.to_string())
}

/// Tags with a value (the API's TagResource and CreateCase take no null values).
fn valued(tags: &Tags) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
        .collect()
}

impl Session {
    async fn call<I: OperationInput>(&self, input: &I) -> Result<I::Output, String> {
        call(&self.client, input).await
    }

    fn domain(&self) -> String {
        self.domain_id.clone()
    }

    async fn tag(&self, arn: &str, tags: &Tags) -> Result<(), String> {
        let tags = valued(tags);
        if tags.is_empty() {
            return Ok(());
        }
        self.call(&TagResourceRequest {
            arn: arn.to_owned(),
            tags: tags.into_iter().map(|(k, v)| (k, Some(v))).collect(),
        })
        .await
    }

    /// Remembers a schema resource the import created under the file's id `old_id`.
    fn created(&mut self, kind: Resource, old_id: &str, new_id: &str) {
        self.ids.insert(old_id.to_owned(), new_id.to_owned());
        self.created.resources.push((kind, new_id.to_owned()));
    }

    /// BatchPutFieldOptions on field `field_id` (`file_id` in the file), whose errors come in
    /// its answer rather than as an error response.
    async fn put_options(
        &self,
        field_id: &str,
        file_id: &str,
        options: Vec<FieldOption>,
    ) -> Result<(), String> {
        let out = self
            .call(&BatchPutFieldOptionsRequest {
                domain_id: self.domain(),
                field_id: field_id.to_owned(),
                options,
            })
            .await?;
        match out.errors.as_deref().and_then(<[_]>::first) {
            Some(e) => Err(format!(
                "options of field {file_id}: {} ({}: {})",
                e.value, e.error_code, e.message
            )),
            None => Ok(()),
        }
    }

    async fn field(&mut self, f: &FieldLine) -> Result<(), String> {
        let (id, arn) = if f.namespace == FieldNamespace::System {
            let arn = format!("{}/field/{}", self.domain_arn, f.field_id);
            (f.field_id.clone(), arn)
        } else {
            let out = self
                .call(&CreateFieldRequest {
                    attributes: f.attributes.clone(),
                    description: f.description.clone(),
                    domain_id: self.domain(),
                    name: f.name.clone(),
                    r#type: f.field_type,
                })
                .await?;
            self.created(Resource::Field, &f.field_id, &out.field_id);
            (out.field_id, out.field_arn)
        };
        if !f.options.is_empty() {
            // All active for now: a case may still hold an option the file has deactivated.
            let active = f
                .options
                .iter()
                .map(|o| FieldOption {
                    active: true,
                    ..o.clone()
                })
                .collect();
            self.put_options(&id, &f.field_id, active).await?;
            let inactive: Vec<FieldOption> =
                f.options.iter().filter(|o| !o.active).cloned().collect();
            if !inactive.is_empty() {
                self.finish
                    .options
                    .push((id.clone(), f.field_id.clone(), inactive));
            }
        }
        self.tag(&arn, &f.tags).await?;
        if f.deleted {
            self.finish.deletions.push((Resource::Field, id));
        }
        Ok(())
    }

    async fn case_rule(&mut self, r: &CaseRuleLine) -> Result<(), String> {
        let out = self
            .call(&CreateCaseRuleRequest {
                description: r.description.clone(),
                domain_id: self.domain(),
                name: r.name.clone(),
                rule: remapped(&r.rule, &self.ids)?,
            })
            .await?;
        self.created(Resource::CaseRule, &r.case_rule_id, &out.case_rule_id);
        self.tag(&out.case_rule_arn, &r.tags).await?;
        if r.deleted {
            self.finish
                .deletions
                .push((Resource::CaseRule, out.case_rule_id));
        }
        Ok(())
    }

    async fn layout(&mut self, l: &LayoutLine) -> Result<(), String> {
        let out = self
            .call(&CreateLayoutRequest {
                content: remapped(&l.content, &self.ids)?,
                domain_id: self.domain(),
                name: l.name.clone(),
            })
            .await?;
        self.created(Resource::Layout, &l.layout_id, &out.layout_id);
        self.tag(&out.layout_arn, &l.tags).await?;
        if l.deleted {
            self.finish
                .deletions
                .push((Resource::Layout, out.layout_id));
        }
        Ok(())
    }

    async fn template(&mut self, t: &TemplateLine) -> Result<(), String> {
        let out = self
            .call(&CreateTemplateRequest {
                description: t.description.clone(),
                domain_id: self.domain(),
                layout_configuration: remapped(&t.layout_configuration, &self.ids)?,
                name: t.name.clone(),
                required_fields: None,
                rules: None,
                status: Some(TemplateStatus::Active),
                tag_propagation_configurations: (!t.tag_propagation_configurations.is_empty())
                    .then(|| t.tag_propagation_configurations.clone()),
            })
            .await?;
        self.created(Resource::Template, &t.template_id, &out.template_id);
        self.tag(&out.template_arn, &t.tags).await?;
        self.finish.templates.push(UpdateTemplateRequest {
            description: None,
            domain_id: self.domain(),
            layout_configuration: None,
            name: None,
            required_fields: Some(remapped(&t.required_fields, &self.ids)?),
            rules: Some(remapped(&t.rules, &self.ids)?),
            status: Some(t.status),
            tag_propagation_configurations: None,
            template_id: out.template_id.clone(),
        });
        if t.deleted {
            self.finish
                .deletions
                .push((Resource::Template, out.template_id));
        }
        Ok(())
    }

    /// The CreateCase input of a case line: its values minus those only the server writes,
    /// with the last updating user as `performedBy` so `last_updated_user` survives.
    fn case_input(&self, c: &CaseLine) -> CreateCaseRequest {
        let fields = c
            .fields
            .iter()
            .filter(|(id, _)| !system_field(id).is_some_and(|s| s.read_only))
            .map(|(id, v)| FieldValue {
                id: self.ids.get(id).unwrap_or(id).clone(),
                value: v.clone(),
            })
            .collect();
        let tags = valued(&c.tags);
        let performed_by = match c.fields.get("last_updated_user") {
            Some(FieldValueUnion::UserArnValue(u)) => Some(UserUnion::UserArn(u.clone())),
            _ => None,
        };
        CreateCaseRequest {
            client_token: None,
            domain_id: self.domain(),
            fields,
            performed_by,
            tags: (!tags.is_empty()).then_some(tags),
            template_id: self
                .ids
                .get(&c.template_id)
                .unwrap_or(&c.template_id)
                .clone(),
        }
    }

    /// CreateRelatedItem on the item's case (by its new id).
    async fn related_item(&mut self, r: &RelatedItemLine) -> Result<(), String> {
        let case_id = self
            .cases
            .get(&r.case_id)
            .ok_or_else(|| format!("case {} was not created", r.case_id))?
            .clone();
        let (kind, content) = item_input(&r.content, r.association_time, &self.ids, &self.cases);
        self.call(&CreateRelatedItemRequest {
            case_id,
            content,
            domain_id: self.domain(),
            performed_by: r.performed_by.clone(),
            r#type: kind,
        })
        .await
        .map(|_| ())
    }

    async fn finish(&mut self) -> Result<(), String> {
        for update in std::mem::take(&mut self.finish.templates) {
            self.call(&update).await?;
        }
        for (id, file_id, options) in std::mem::take(&mut self.finish.options) {
            self.put_options(&id, &file_id, options).await?;
        }
        let mut deletions = std::mem::take(&mut self.finish.deletions);
        deletions.sort_by_key(|(kind, _)| *kind);
        for (kind, id) in deletions {
            self.delete(kind, id).await?;
        }
        Ok(())
    }

    async fn delete(&self, kind: Resource, id: String) -> Result<(), String> {
        let domain_id = self.domain();
        match kind {
            Resource::Template => self
                .call(&DeleteTemplateRequest {
                    domain_id,
                    template_id: id,
                })
                .await
                .map(|_| ()),
            Resource::Layout => self
                .call(&DeleteLayoutRequest {
                    domain_id,
                    layout_id: id,
                })
                .await
                .map(|_| ()),
            Resource::CaseRule => self
                .call(&DeleteCaseRuleRequest {
                    domain_id,
                    case_rule_id: id,
                })
                .await
                .map(|_| ()),
            Resource::Field => self
                .call(&DeleteFieldRequest {
                    domain_id,
                    field_id: id,
                })
                .await
                .map(|_| ()),
        }
    }

    /// Removes what the import created (best effort: a failure is reported, not retried).
    async fn undo(&mut self) {
        let report = |what: &str, e: String| eprintln!("caseload: could not remove {what}: {e}");
        if self.created.domain {
            let input = DeleteDomainRequest {
                domain_id: self.domain(),
            };
            if let Err(e) = self.call(&input).await {
                report(&format!("domain {}", self.domain_id), e);
            }
            return;
        }
        for case_id in &self.created.cases {
            let input = DeleteCaseRequest {
                case_id: case_id.clone(),
                domain_id: self.domain(),
            };
            if let Err(e) = self.call(&input).await {
                report(&format!("case {case_id}"), e);
            }
        }
        for (kind, id) in self.created.resources.iter().rev() {
            if let Err(e) = self.delete(*kind, id.clone()).await {
                report(id, e);
            }
        }
    }
}

/// Pass two through the API. Returns (schema resources, cases).
async fn upload(s: &mut Session, args: &RemoteImport) -> Result<(usize, u64), String> {
    let mut lines = Lines::open(&args.file)?;
    let mut progress = Progress::bytes("importing", lines.total_bytes, args.quiet);
    let mut resources = 0;
    let mut cases = 0u64;
    let mut items = 0u64;
    let mut inflight: JoinSet<Result<CaseIds, String>> = JoinSet::new();
    while let Some((number, parsed)) = lines.next_line()? {
        let at = |e: String| format!("line {number}: {e}");
        let line = parsed.map_err(at)?;
        match &line {
            Line::Domain(d) => s.tag(&s.domain_arn.clone(), &d.tags).await.map_err(at)?,
            Line::Field(f) => s.field(f).await.map_err(at)?,
            Line::CaseRule(r) => s.case_rule(r).await.map_err(at)?,
            Line::Layout(l) => s.layout(l).await.map_err(at)?,
            Line::Template(t) => s.template(t).await.map_err(at)?,
            Line::RelatedItem(r) => {
                // Every case exists before the first item (items follow cases in a file).
                while let Some(done) = inflight.join_next().await {
                    joined(s, Some(done)).await?;
                }
                s.related_item(r).await.map_err(at)?;
                items += 1;
                continue;
            }
            Line::Case(c) => {
                while inflight.len() >= args.concurrency.max(1) {
                    joined(s, inflight.join_next().await).await?;
                }
                let (client, input) = (s.client.clone(), s.case_input(c));
                let file_id = c.case_id.clone();
                inflight.spawn(async move {
                    let out = call(&client, &input)
                        .await
                        .map_err(|e| format!("line {number}: {e}"))?;
                    Ok((file_id, out.case_id))
                });
                cases += 1;
                if cases.is_multiple_of(256) {
                    progress.set(lines.bytes_read);
                }
                continue;
            }
        }
        resources += 1;
    }
    while let Some(done) = inflight.join_next().await {
        joined(s, Some(done)).await?;
    }
    progress.finish("done");
    s.finish().await?;
    if !args.quiet && items > 0 {
        eprintln!("created {items} related items");
    }
    Ok((resources, cases))
}

/// A created case's id in the file and on the server.
type CaseIds = (String, String);

/// Records a finished CreateCase.
async fn joined(
    s: &mut Session,
    done: Option<Result<Result<CaseIds, String>, tokio::task::JoinError>>,
) -> Result<(), String> {
    match done {
        None => Ok(()),
        Some(r) => {
            let (file_id, id) = r.map_err(|e| e.to_string())??;
            s.created.cases.push(id.clone());
            s.cases.insert(file_id, id);
            Ok(())
        }
    }
}

/// CreateRelatedItem's type and `content` for an item that had `content` (see the module's
/// notes on what changes); `ids` maps the file's field ids, `cases` its case ids, to the
/// server's.
fn item_input(
    content: &RelatedItemContent,
    association: caseload_model::Timestamp,
    ids: &HashMap<String, String>,
    cases: &HashMap<String, String>,
) -> (RelatedItemType, RelatedItemInputContent) {
    let field = |id: &str| ids.get(id).cloned().unwrap_or_else(|| id.to_owned());
    use RelatedItemContent as C;
    use RelatedItemInputContent as I;
    match content {
        C::Comment(c) => (RelatedItemType::Comment, I::Comment(c.clone())),
        C::File(f) => (RelatedItemType::File, I::File(f.clone())),
        C::Contact(c) => (
            RelatedItemType::Contact,
            I::Contact(Contact {
                contact_arn: c.contact_arn.clone(),
            }),
        ),
        C::Custom(c) => (
            RelatedItemType::Custom,
            I::Custom(CustomInputContent {
                fields: c
                    .fields
                    .iter()
                    .map(|f| FieldValue {
                        id: field(&f.id),
                        value: f.value.clone(),
                    })
                    .collect(),
            }),
        ),
        C::ConnectCase(c) => (
            RelatedItemType::ConnectCase,
            I::ConnectCase(ConnectCaseInputContent {
                case_id: cases.get(&c.case_id).unwrap_or(&c.case_id).clone(),
            }),
        ),
        C::Sla(sla) => {
            let c = &sla.sla_configuration;
            let minutes = (c.target_time.unix_millis() - association.unix_millis()) / 60_000;
            (
                RelatedItemType::Sla,
                I::Sla(SlaInputContent::SlaInputConfiguration(
                    SlaInputConfiguration {
                        field_id: c.field_id.as_deref().map(field),
                        name: c.name.clone(),
                        target_field_values: c.target_field_values.clone(),
                        target_sla_minutes: minutes.max(1),
                        r#type: c.r#type,
                    },
                )),
            )
        }
    }
}
