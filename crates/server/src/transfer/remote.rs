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
use caseload_client::{Client, ClientError, HttpMethod as Method, segment};
use caseload_domain::schema::fields::system_field;
use caseload_domain::transfer::format::*;
use caseload_model::shapes::FieldNamespace;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
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

/// Ids the import created, for removing them again.
#[derive(Default)]
struct Created {
    domain: bool,
    cases: Vec<String>,
    /// (path prefix, id) of schema resources, in creation order.
    resources: Vec<(&'static str, String)>,
}

/// What the file says that the API can only do after the cases exist.
#[derive(Default)]
struct Finish {
    /// (template id, UpdateTemplate body).
    templates: Vec<(String, Json)>,
    /// (field id, options to deactivate).
    options: Vec<(String, Vec<Json>)>,
    /// (path prefix, id) to delete.
    deletions: Vec<(&'static str, String)>,
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

pub async fn run(args: RemoteImport) -> Result<super::direct::Imported, String> {
    let plan = check_file(&args.file, args.quiet)?;
    let client = Client::new(
        &args.endpoint,
        &args.access_key_id,
        &args.secret_access_key,
        &args.region,
    );
    let api = |e: ClientError| e.to_string();
    let (domain_id, name, created_domain) = match &args.domain_id {
        None => {
            let name = args
                .name
                .clone()
                .unwrap_or_else(|| plan.domain.name.clone());
            let out: Json = client
                .call(Method::POST, "/domains", &json!({ "name": name }))
                .await
                .map_err(|e| format!("cannot create domain '{name}': {e}"))?;
            (str_of(&out, "domainId")?, name, true)
        }
        Some(id) => {
            let name = check_empty(&client, id).await?;
            (id.clone(), name, false)
        }
    };
    let domain: Json = client
        .call(
            Method::POST,
            &format!("/domains/{}", segment(&domain_id)),
            &json!({}),
        )
        .await
        .map_err(api)?;
    let mut s = Session {
        client,
        domain_arn: str_of(&domain, "domainArn")?,
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
    let api = |e: ClientError| e.to_string();
    let d = segment(id);
    let domain: Json = client
        .call(Method::POST, &format!("/domains/{d}"), &json!({}))
        .await
        .map_err(api)?;
    let fields: Json = client
        .call(
            Method::POST,
            &format!("/domains/{d}/fields-list"),
            &json!({}),
        )
        .await
        .map_err(api)?;
    let custom = fields["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| f["namespace"] == "Custom");
    let mut busy = custom;
    for (path, member) in [("templates-list", "templates"), ("layouts-list", "layouts")] {
        let page: Json = client
            .call(Method::POST, &format!("/domains/{d}/{path}"), &json!({}))
            .await
            .map_err(api)?;
        busy |= page[member].as_array().is_some_and(|a| !a.is_empty());
    }
    let cases: Json = client
        .call(
            Method::POST,
            &format!("/domains/{d}/cases-search"),
            &json!({ "maxResults": 1 }),
        )
        .await
        .map_err(api)?;
    busy |= cases["totalCount"].as_i64().unwrap_or(0) > 0;
    if busy {
        return Err(format!(
            "domain {id} is not empty (it has custom fields, templates, layouts or cases)"
        ));
    }
    str_of(&domain, "name")
}

fn str_of(v: &Json, member: &str) -> Result<String, String> {
    v[member]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("the server's answer has no {member}"))
}

/// Replaces every string that is a file id with the server's id for it. Ids are UUIDs, so a
/// value that merely looks like one does not occur.
fn remap(v: &mut Json, ids: &HashMap<String, String>) {
    match v {
        Json::String(s) => {
            if let Some(new) = ids.get(s.as_str()) {
                *s = new.clone();
            }
        }
        Json::Array(a) => a.iter_mut().for_each(|x| remap(x, ids)),
        Json::Object(o) => o.values_mut().for_each(|x| remap(x, ids)),
        _ => {}
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Json {
    serde_json::to_value(v).expect("shapes serialize")
}

/// Tags with a value (the API's TagResource takes no null values).
fn valued(tags: &Tags) -> serde_json::Map<String, Json> {
    tags.iter()
        .filter_map(|(k, v)| Some((k.clone(), Json::String(v.clone()?))))
        .collect()
}

impl Session {
    fn d(&self) -> String {
        segment(&self.domain_id)
    }

    async fn call(&self, method: Method, path: &str, body: &Json) -> Result<Json, String> {
        self.client
            .call(method, path, body)
            .await
            .map_err(|e| format!("{path}: {e}"))
    }

    async fn tag(&self, arn: &str, tags: &Tags) -> Result<(), String> {
        let tags = valued(tags);
        if tags.is_empty() {
            return Ok(());
        }
        self.call(
            Method::POST,
            &format!("/tags/{}", segment(arn)),
            &json!({ "tags": tags }),
        )
        .await
        .map(|_| ())
    }

    /// Creates a schema resource, remembers its new id, and returns the answer.
    async fn create(
        &mut self,
        path: &'static str,
        old_id: &str,
        id_member: &str,
        body: &Json,
    ) -> Result<Json, String> {
        let out = self
            .call(Method::POST, &format!("/domains/{}/{path}", self.d()), body)
            .await?;
        let new_id = str_of(&out, id_member)?;
        self.ids.insert(old_id.to_owned(), new_id.clone());
        self.created.resources.push((path, new_id));
        Ok(out)
    }

    async fn field(&mut self, f: &FieldLine) -> Result<(), String> {
        let (id, arn) = if f.namespace == FieldNamespace::System {
            let arn = format!("{}/field/{}", self.domain_arn, f.field_id);
            (f.field_id.clone(), arn)
        } else {
            let mut body = json!({ "name": f.name, "type": f.field_type.as_str() });
            if let Some(d) = &f.description {
                body["description"] = json!(d);
            }
            if let Some(a) = &f.attributes {
                body["attributes"] = to_json(a);
            }
            let out = self.create("fields", &f.field_id, "fieldId", &body).await?;
            (str_of(&out, "fieldId")?, str_of(&out, "fieldArn")?)
        };
        if !f.options.is_empty() {
            // All active for now: a case may still hold an option the file has deactivated.
            let options: Vec<Json> = f
                .options
                .iter()
                .map(|o| json!({ "name": o.name, "value": o.value, "active": true }))
                .collect();
            let out = self
                .call(
                    Method::PUT,
                    &format!("/domains/{}/fields/{}/options", self.d(), segment(&id)),
                    &json!({ "options": options }),
                )
                .await?;
            if let Some(e) = out["errors"].as_array().and_then(|e| e.first()) {
                return Err(format!("options of field {}: {e}", f.field_id));
            }
            let inactive: Vec<Json> = f
                .options
                .iter()
                .filter(|o| !o.active)
                .map(|o| json!({ "name": o.name, "value": o.value, "active": false }))
                .collect();
            if !inactive.is_empty() {
                self.finish.options.push((id.clone(), inactive));
            }
        }
        self.tag(&arn, &f.tags).await?;
        if f.deleted {
            self.finish.deletions.push(("fields", id));
        }
        Ok(())
    }

    async fn case_rule(&mut self, r: &CaseRuleLine) -> Result<(), String> {
        let mut rule = to_json(&r.rule);
        remap(&mut rule, &self.ids);
        let mut body = json!({ "name": r.name, "rule": rule });
        if let Some(d) = &r.description {
            body["description"] = json!(d);
        }
        let out = self
            .create("case-rules", &r.case_rule_id, "caseRuleId", &body)
            .await?;
        self.tag(&str_of(&out, "caseRuleArn")?, &r.tags).await?;
        if r.deleted {
            self.finish
                .deletions
                .push(("case-rules", str_of(&out, "caseRuleId")?));
        }
        Ok(())
    }

    async fn layout(&mut self, l: &LayoutLine) -> Result<(), String> {
        let mut content = to_json(&l.content);
        remap(&mut content, &self.ids);
        let body = json!({ "name": l.name, "content": content });
        let out = self
            .create("layouts", &l.layout_id, "layoutId", &body)
            .await?;
        self.tag(&str_of(&out, "layoutArn")?, &l.tags).await?;
        if l.deleted {
            self.finish
                .deletions
                .push(("layouts", str_of(&out, "layoutId")?));
        }
        Ok(())
    }

    async fn template(&mut self, t: &TemplateLine) -> Result<(), String> {
        let mut body = json!({ "name": t.name, "status": "Active" });
        if let Some(d) = &t.description {
            body["description"] = json!(d);
        }
        if let Some(c) = &t.layout_configuration {
            body["layoutConfiguration"] = to_json(c);
        }
        if !t.tag_propagation_configurations.is_empty() {
            body["tagPropagationConfigurations"] = to_json(&t.tag_propagation_configurations);
        }
        remap(&mut body, &self.ids);
        let out = self
            .create("templates", &t.template_id, "templateId", &body)
            .await?;
        let id = str_of(&out, "templateId")?;
        self.tag(&str_of(&out, "templateArn")?, &t.tags).await?;
        let mut last = json!({
            "requiredFields": to_json(&t.required_fields),
            "rules": to_json(&t.rules),
            "status": t.status.as_str(),
        });
        remap(&mut last, &self.ids);
        self.finish.templates.push((id.clone(), last));
        if t.deleted {
            self.finish.deletions.push(("templates", id));
        }
        Ok(())
    }

    /// The CreateCase body of a case line: its values minus those only the server writes, with
    /// the last updating user as `performedBy` so `last_updated_user` survives.
    fn case_body(&self, c: &CaseLine) -> Json {
        let mut fields = Vec::with_capacity(c.fields.len());
        for (id, v) in &c.fields {
            if system_field(id).is_some_and(|s| s.read_only) {
                continue;
            }
            let id = self.ids.get(id).unwrap_or(id);
            fields.push(json!({ "id": id, "value": to_json(v) }));
        }
        let template = self.ids.get(&c.template_id).unwrap_or(&c.template_id);
        let mut body = json!({ "templateId": template, "fields": fields });
        let tags = valued(&c.tags);
        if !tags.is_empty() {
            body["tags"] = Json::Object(tags);
        }
        if let Some(caseload_model::shapes::FieldValueUnion::UserArnValue(u)) =
            c.fields.get("last_updated_user")
        {
            body["performedBy"] = json!({ "userArn": u });
        }
        body
    }

    /// CreateRelatedItem on the item's case (by its new id).
    async fn related_item(&mut self, r: &RelatedItemLine) -> Result<(), String> {
        let case = self
            .cases
            .get(&r.case_id)
            .ok_or_else(|| format!("case {} was not created", r.case_id))?
            .clone();
        let (kind, content) = item_input(&r.content, r.association_time, &self.ids, &self.cases)?;
        let mut body = json!({ "type": kind, "content": content });
        if let Some(u) = &r.performed_by {
            body["performedBy"] = serde_json::to_value(u).map_err(|e| e.to_string())?;
        }
        let path = format!(
            "/domains/{}/cases/{}/related-items/",
            self.d(),
            segment(&case)
        );
        self.call(Method::POST, &path, &body).await.map(|_| ())
    }

    async fn finish(&mut self) -> Result<(), String> {
        let d = self.d();
        for (id, body) in std::mem::take(&mut self.finish.templates) {
            self.call(
                Method::PUT,
                &format!("/domains/{d}/templates/{}", segment(&id)),
                &body,
            )
            .await?;
        }
        for (id, options) in std::mem::take(&mut self.finish.options) {
            self.call(
                Method::PUT,
                &format!("/domains/{d}/fields/{}/options", segment(&id)),
                &json!({ "options": options }),
            )
            .await?;
        }
        // Templates and layouts before the fields and rules they may name.
        let mut deletions = std::mem::take(&mut self.finish.deletions);
        deletions.sort_by_key(|(path, _)| match *path {
            "templates" => 0,
            "layouts" => 1,
            "case-rules" => 2,
            _ => 3,
        });
        for (path, id) in deletions {
            self.call(
                Method::DELETE,
                &format!("/domains/{d}/{path}/{}", segment(&id)),
                &json!({}),
            )
            .await?;
        }
        Ok(())
    }

    /// Removes what the import created (best effort: a failure is reported, not retried).
    async fn undo(&mut self) {
        let d = self.d();
        let mut calls: Vec<String> = Vec::new();
        if self.created.domain {
            calls.push(format!("/domains/{d}"));
        } else {
            calls.extend(
                self.created
                    .cases
                    .iter()
                    .map(|c| format!("/domains/{d}/cases/{}", segment(c))),
            );
            calls.extend(
                self.created
                    .resources
                    .iter()
                    .rev()
                    .map(|(path, id)| format!("/domains/{d}/{path}/{}", segment(id))),
            );
        }
        for path in calls {
            if let Err(e) = self.call(Method::DELETE, &path, &json!({})).await {
                eprintln!("caseload: could not remove {path}: {e}");
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
                let (client, body) = (s.client.clone(), s.case_body(c));
                let path = format!("/domains/{}/cases", s.d());
                let file_id = c.case_id.clone();
                inflight.spawn(async move {
                    let out: Json = client
                        .call(Method::POST, &path, &body)
                        .await
                        .map_err(|e| format!("line {number}: {e}"))?;
                    Ok((file_id, str_of(&out, "caseId")?))
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

/// CreateRelatedItem's `content` for an item that had `content` (see the module's notes on
/// what changes); `ids` maps the file's field ids, `cases` its case ids, to the server's.
fn item_input(
    content: &caseload_model::shapes::RelatedItemContent,
    association: caseload_model::Timestamp,
    ids: &HashMap<String, String>,
    cases: &HashMap<String, String>,
) -> Result<(&'static str, Json), String> {
    let field = |id: &str| ids.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let case_id = |id: &str| cases.get(id).cloned().unwrap_or_else(|| id.to_owned());
    use caseload_model::shapes::RelatedItemContent as C;
    Ok(match content {
        C::Comment(c) => ("Comment", json!({ "comment": to_json(c) })),
        C::File(f) => ("File", json!({ "file": to_json(f) })),
        C::Contact(c) => (
            "Contact",
            json!({ "contact": { "contactArn": c.contact_arn } }),
        ),
        C::Custom(c) => {
            let fields: Vec<Json> = c
                .fields
                .iter()
                .map(|f| json!({ "id": field(&f.id), "value": to_json(&f.value) }))
                .collect();
            ("Custom", json!({ "custom": { "fields": fields } }))
        }
        C::ConnectCase(c) => (
            "ConnectCase",
            json!({ "connectCase": { "caseId": case_id(&c.case_id) } }),
        ),
        C::Sla(sla) => {
            let c = &sla.sla_configuration;
            let minutes = (c.target_time.unix_millis() - association.unix_millis()) / 60_000;
            let mut conf = json!({
                "name": c.name,
                "type": to_json(&c.r#type),
                "targetSlaMinutes": minutes.max(1),
            });
            if let Some(f) = &c.field_id {
                conf["fieldId"] = json!(field(f));
            }
            if let Some(v) = &c.target_field_values {
                conf["targetFieldValues"] = to_json(v);
            }
            ("Sla", json!({ "sla": { "slaInputConfiguration": conf } }))
        }
    })
}
