//! Response bodies against the official OpenAPI schemas in `../shared/vipps/spec/`.
//!
//! The specs are OpenAPI 3.0, whose schema dialect is close to JSON Schema
//! draft 4 but not equal to it. The conversion below is explicit and small:
//! - `nullable: true` becomes a `null` alternative (type list, enum, or anyOf);
//! - OpenAPI-only `format`s (int32, int64, byte, guid, free-text ones such as
//!   `IATA 3-digit accounting code (PAX)`) are dropped; `uri`, `date-time`,
//!   `uuid` and `email` stay and are checked;
//! - the ePayment spec's `$ref` to the Order Management 2.3.24 `Receipt`
//!   (an https URL) is resolved offline against the stored 2.3.24 file;
//!   any other external `$ref` is an error, never silently skipped.
//!
//! Known spec quirks, each handled on purpose (docs/fidelity.md lists them):
//! - QUIRK(PaymentEvent.required): lists `paymentAction`, removed in v1.2.1,
//!   and omits `name`. We validate with `name` in its place.
//! - QUIRK(AdjustResponse media type): the 200 of cancel/capture/refund is
//!   declared `application/problem+json` with a ModificationResponse schema.
//!   We validate the body against ModificationResponse whatever the content
//!   type (behaviour.md §1 recommends `application/json`).
//! - QUIRK(access_token format: byte): a JWT is base64url with dots, not
//!   `byte`; `byte` is an OpenAPI-only format and is dropped like the others.
//!
//! Statuses the spec does not declare for an operation (gateway 401, 404 on
//! GET, 423, 429, 500 from faults) have no schema; they are counted as
//! "undeclared" and not validated here (the tests assert their shape).
//!
//! When the spec folder is absent, every check is a no-op and
//! [`availability`] says why; set `FIDELITY_SCHEMA=warn` to report
//! violations on stderr instead of failing the test.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Map, Value};

use super::Resp;

const OM_2324_URL: &str =
    "https://raw.githubusercontent.com/vippsas/vipps-order-management-api/2.3.24/docs/swagger.yaml";
const OM_2324_KEY: &str = "x-om-2.3.24";

/// The folder holding the official specs.
pub fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vipps/spec")
}

/// One API: its converted OpenAPI document and the URL prefix its paths sit under.
struct Api {
    name: &'static str,
    prefix: &'static str,
    doc: Value,
}

struct Specs {
    apis: Vec<Api>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

static SPECS: OnceLock<Result<Specs, String>> = OnceLock::new();

fn specs() -> &'static Result<Specs, String> {
    SPECS.get_or_init(load)
}

/// `Ok(())` when the specs are loaded; otherwise the reason checks are skipped.
pub fn availability() -> Result<(), String> {
    match specs() {
        Ok(_) => Ok(()),
        Err(e) => Err(e.clone()),
    }
}

fn read_yaml(file: &str) -> Result<Value, String> {
    let path = spec_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let y: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).map_err(|e| format!("`{file}` is not YAML: {e}"))?;
    Ok(yaml_to_json(y))
}

/// YAML to JSON; map keys that YAML reads as numbers (`200:`) become strings.
fn yaml_to_json(y: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match y {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                json!(n.as_f64().unwrap_or(0.0))
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(seq.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => format!("{other:?}"),
                };
                out.insert(key, yaml_to_json(v));
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

const KEPT_FORMATS: [&str; 4] = ["uri", "date-time", "uuid", "email"];

/// OpenAPI 3.0 schema dialect -> JSON Schema draft 4 (see module docs).
fn convert(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(convert),
        Value::Object(obj) => {
            for (_, child) in obj.iter_mut() {
                convert(child);
            }
            if let Some(Value::String(f)) = obj.get("format") {
                if !KEPT_FORMATS.contains(&f.as_str()) {
                    obj.remove("format");
                }
            }
            if obj.get("nullable") == Some(&Value::Bool(true)) {
                obj.remove("nullable");
                if let Some(Value::Array(e)) = obj.get_mut("enum") {
                    e.push(Value::Null);
                }
                match obj.get("type").cloned() {
                    Some(Value::String(t)) => {
                        obj.insert("type".into(), json!([t, "null"]));
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(obj));
                        obj.insert("anyOf".into(), json!([inner, { "type": "null" }]));
                    }
                }
            }
        }
        _ => {}
    }
}

/// Rewrites `$ref`s: `from` prefix -> `to` prefix; returns external refs left.
fn rewrite_refs(v: &mut Value, from: &str, to: &str, external: &mut Vec<String>) {
    match v {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| rewrite_refs(i, from, to, external)),
        Value::Object(obj) => {
            if let Some(Value::String(r)) = obj.get_mut("$ref") {
                if let Some(rest) = r.strip_prefix(from) {
                    *r = format!("{to}{rest}");
                } else if !r.starts_with('#') {
                    external.push(r.clone());
                }
            }
            for (k, child) in obj.iter_mut() {
                if k != "$ref" {
                    rewrite_refs(child, from, to, external);
                }
            }
        }
        _ => {}
    }
}

fn load() -> Result<Specs, String> {
    let dir = spec_dir();
    if !dir.is_dir() {
        return Err(format!(
            "spec folder `{}` not found (it sits beside the project in the shared workspace)",
            dir.display()
        ));
    }
    let mut epayment = read_yaml("epayment.v1.4.1.yml")?;
    let mut om2324 = read_yaml("order-management-api.tag-2.3.24.swagger.yaml")?;
    let mut ext = Vec::new();
    rewrite_refs(&mut om2324, "#/", &format!("#/{OM_2324_KEY}/"), &mut ext);
    rewrite_refs(
        &mut epayment,
        &format!("{OM_2324_URL}#/"),
        &format!("#/{OM_2324_KEY}/"),
        &mut ext,
    );
    if !ext.is_empty() {
        return Err(format!("unresolvable external $refs: {ext:?}"));
    }
    // QUIRK(PaymentEvent.required): replace the removed `paymentAction` by `name`.
    let required = epayment
        .pointer_mut("/components/schemas/PaymentEvent/required")
        .and_then(Value::as_array_mut)
        .ok_or("epayment spec has no PaymentEvent.required")?;
    match required.iter().position(|r| r == "paymentAction") {
        Some(i) => required[i] = json!("name"),
        None => {
            return Err(
                "PaymentEvent.required no longer lists `paymentAction`: review the quirk".into(),
            )
        }
    }
    epayment
        .as_object_mut()
        .ok_or("epayment spec is not a mapping")?
        .insert(OM_2324_KEY.into(), om2324);

    let mut apis = vec![
        Api {
            name: "epayment",
            prefix: "",
            doc: epayment,
        },
        Api {
            name: "token",
            prefix: "",
            doc: read_yaml("access-token-api.swagger.yaml")?,
        },
        Api {
            name: "webhooks",
            prefix: "/webhooks",
            doc: read_yaml("webhooks-api.swagger.yaml")?,
        },
        Api {
            name: "order-management",
            prefix: "/order-management",
            doc: read_yaml("order-management-api.v2.1.swagger.yaml")?,
        },
    ];
    for api in &mut apis {
        convert(&mut api.doc);
    }
    Ok(Specs {
        apis,
        validators: Mutex::new(HashMap::new()),
    })
}

/// The outcome of looking a response up in the specs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Not a path of any spec (control API, landing page, QR image).
    NotAnApi,
    /// The operation exists but declares no such status.
    Undeclared { api: &'static str, template: String },
    /// Declared, without a body schema.
    NoContent { api: &'static str, template: String },
    /// Declared with a schema: JSON pointer into the API document.
    Schema {
        api: &'static str,
        template: String,
        pointer: String,
    },
}

fn escape(seg: &str) -> String {
    seg.replace('~', "~0").replace('/', "~1")
}

fn segments(p: &str) -> Vec<&str> {
    p.split('/').filter(|s| !s.is_empty()).collect()
}

/// Finds the path template matching `path` (literal segments preferred).
fn match_template<'a>(paths: &'a Map<String, Value>, path: &str) -> Option<&'a str> {
    let want = segments(path);
    let mut best: Option<(&str, usize)> = None;
    for template in paths.keys() {
        let have = segments(template);
        if have.len() != want.len() {
            continue;
        }
        let mut literal = 0;
        let ok = have.iter().zip(&want).all(|(h, w)| {
            if h.starts_with('{') {
                true
            } else if h.eq_ignore_ascii_case(w) {
                literal += 1;
                true
            } else {
                false
            }
        });
        if ok && best.map(|(_, l)| literal > l).unwrap_or(true) {
            best = Some((template.as_str(), literal));
        }
    }
    best.map(|(t, _)| t)
}

fn deref<'a>(doc: &'a Value, v: &'a Value) -> (&'a Value, Option<String>) {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) if r.starts_with("#/") => match doc.pointer(&r[1..]) {
            Some(t) => (t, Some(r[1..].to_owned())),
            None => (v, None),
        },
        _ => (v, None),
    }
}

/// Where the schema for `method path -> status` lives.
pub fn lookup(method: &str, path: &str, status: u16) -> Option<Lookup> {
    let specs = specs().as_ref().ok()?;
    let path = path.split('?').next().unwrap_or(path);
    for api in &specs.apis {
        let Some(rest) = path.strip_prefix(api.prefix) else {
            continue;
        };
        let Some(paths) = api.doc.get("paths").and_then(Value::as_object) else {
            continue;
        };
        let Some(template) = match_template(paths, rest) else {
            continue;
        };
        let m = method.to_ascii_lowercase();
        let op_ptr = format!("/paths/{}/{m}", escape(template));
        let Some(op) = api.doc.pointer(&op_ptr) else {
            continue;
        };
        let code = status.to_string();
        let Some(resp) = op.get("responses").and_then(|r| r.get(&code)) else {
            return Some(Lookup::Undeclared {
                api: api.name,
                template: template.to_owned(),
            });
        };
        let (resp, resp_ptr) = deref(&api.doc, resp);
        let base = resp_ptr.unwrap_or_else(|| format!("{op_ptr}/responses/{code}"));
        let Some(content) = resp.get("content").and_then(Value::as_object) else {
            return Some(Lookup::NoContent {
                api: api.name,
                template: template.to_owned(),
            });
        };
        let Some((media, body)) = content.iter().next() else {
            return Some(Lookup::NoContent {
                api: api.name,
                template: template.to_owned(),
            });
        };
        if body.get("schema").is_none() {
            return Some(Lookup::NoContent {
                api: api.name,
                template: template.to_owned(),
            });
        }
        return Some(Lookup::Schema {
            api: api.name,
            template: template.to_owned(),
            pointer: format!("{base}/content/{}/schema", escape(media)),
        });
    }
    Some(Lookup::NotAnApi)
}

fn validator(api_name: &str, pointer: &str) -> Result<Arc<jsonschema::Validator>, String> {
    let specs = specs().as_ref().map_err(Clone::clone)?;
    let cache_key = format!("{api_name}#{pointer}");
    if let Some(v) = specs
        .validators
        .lock()
        .expect("validator cache")
        .get(&cache_key)
    {
        return Ok(v.clone());
    }
    let api = specs
        .apis
        .iter()
        .find(|a| a.name == api_name)
        .ok_or_else(|| format!("no API `{api_name}`"))?;
    // The root is the whole converted document plus a `$ref` to the schema,
    // so every internal `#/components/...` pointer resolves.
    let mut root = api.doc.clone();
    root.as_object_mut()
        .ok_or("spec is not a mapping")?
        // A URI fragment: path templates' braces must be percent-encoded.
        .insert(
            "$ref".into(),
            json!(format!(
                "#{}",
                pointer.replace('{', "%7B").replace('}', "%7D")
            )),
        );
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| format!("schema `{api_name}#{pointer}` does not compile: {e}"))?;
    let v = Arc::new(v);
    specs
        .validators
        .lock()
        .expect("validator cache")
        .insert(cache_key, v.clone());
    Ok(v)
}

/// Validates `body` against the schema at `pointer`; the violations, if any.
pub fn validate_at(api: &str, pointer: &str, body: &Value) -> Result<(), Vec<String>> {
    let v = validator(api, pointer).map_err(|e| vec![e])?;
    let errors: Vec<String> = v
        .iter_errors(body)
        .map(|e| format!("at `{}`: {e}", e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Validates against a named component schema (e.g. `WebhookEvent`).
pub fn validate_named(api: &str, schema: &str, body: &Value) -> Result<(), Vec<String>> {
    validate_at(api, &format!("/components/schemas/{schema}"), body)
}

/// Per-process tally, printed by the schema test.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub validated: usize,
    pub undeclared: Vec<String>,
    pub violations: Vec<String>,
}

static TALLY: Mutex<Option<Tally>> = Mutex::new(None);

pub fn tally() -> Tally {
    TALLY.lock().expect("tally").clone().unwrap_or_default()
}

fn record(f: impl FnOnce(&mut Tally)) {
    let mut t = TALLY.lock().expect("tally");
    f(t.get_or_insert_with(Tally::default));
}

fn strict() -> bool {
    std::env::var("FIDELITY_SCHEMA")
        .map(|v| v != "warn")
        .unwrap_or(true)
}

/// Checks one response; panics on a violation unless `FIDELITY_SCHEMA=warn`.
pub fn check_response(resp: &Resp) {
    if let Err(violations) = check(resp) {
        let msg = format!(
            "schema violation: {} {} -> {}:\n  {}\n  body: {:.600}",
            resp.method,
            resp.path,
            resp.status,
            violations.join("\n  "),
            resp.text
        );
        if strict() {
            panic!("{msg}");
        } else {
            eprintln!("{msg}");
        }
    }
}

/// Checks one response and returns the violations (empty when there is no schema).
pub fn check(resp: &Resp) -> Result<(), Vec<String>> {
    let Some(found) = lookup(resp.method.as_str(), &resp.path, resp.status) else {
        return Ok(()); // specs absent: skipped (availability() says why)
    };
    match found {
        Lookup::NotAnApi => Ok(()),
        Lookup::Undeclared { api, template } => {
            let line = format!("{api}: {} {template} -> {}", resp.method, resp.status);
            record(|t| {
                if !t.undeclared.contains(&line) {
                    t.undeclared.push(line)
                }
            });
            Ok(())
        }
        Lookup::NoContent { .. } => {
            record(|t| t.validated += 1);
            Ok(())
        }
        Lookup::Schema {
            api,
            template,
            pointer,
        } => {
            let body: Value = match serde_json::from_slice(&resp.bytes) {
                Ok(b) => b,
                Err(e) => {
                    let v = vec![format!("body is not JSON: {e}")];
                    record(|t| {
                        t.violations
                            .push(format!("{} {template}: {v:?}", resp.method))
                    });
                    return Err(v);
                }
            };
            record(|t| t.validated += 1);
            validate_at(api, &pointer, &body).inspect_err(|v| {
                record(|t| {
                    t.violations.push(format!(
                        "{api}: {} {template} -> {}: {v:?}",
                        resp.method, resp.status
                    ))
                })
            })
        }
    }
}
