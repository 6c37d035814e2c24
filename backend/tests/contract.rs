//! The backend keeps the contract the core calls (keyway-api): every endpoint is mounted
//! at its method and path, documented in the OpenAPI document with the same method, the
//! same access, the same query parameters and the same answer type, and nothing is
//! documented or mounted that the contract does not name.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeSet;

use keyway_api::{Endpoint, EndpointVisitor, Route, routes, visit_all};
use serde_json::Value;

fn document() -> Value {
    serde_json::from_str(&keyway_backend::openapi::document_json()).unwrap()
}

fn key(r: &Route) -> (String, &'static str) {
    (r.path.to_owned(), r.method.as_str())
}

#[test]
fn the_router_mounts_exactly_the_contracts_endpoints() {
    let mounted: BTreeSet<_> = keyway_backend::routes::mounted_routes().iter().map(key).collect();
    let contract: BTreeSet<_> = routes().iter().map(key).collect();
    assert_eq!(mounted, contract);
}

#[test]
fn the_openapi_document_describes_exactly_the_contracts_endpoints() {
    let doc = document();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((path.clone(), method.to_uppercase()));
        }
    }
    let contract: BTreeSet<_> = routes().iter().map(|r| (r.path.to_owned(), r.method.as_str().to_owned())).collect();
    let missing: Vec<_> = contract.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&contract).collect();
    assert!(missing.is_empty() && extra.is_empty(), "not documented: {missing:?}; not in the contract: {extra:?}");
}

/// Compares one endpoint's contract with its operation in the document.
struct AgreesWithDocument {
    doc: Value,
    disagreements: Vec<String>,
}

impl AgreesWithDocument {
    fn operation<E: Endpoint>(&self) -> &Value {
        &self.doc["paths"][E::PATH][E::METHOD.as_str().to_lowercase()]
    }
}

/// The schema name a Rust type has in the document (`Vec<T>` as `[T]`, `()` as none).
fn schema_name(type_name: &str) -> Option<String> {
    if type_name == "()" {
        return None;
    }
    if let Some(inner) = type_name.strip_prefix("alloc::vec::Vec<").and_then(|t| t.strip_suffix('>')) {
        return schema_name(inner).map(|n| format!("[{n}]"));
    }
    type_name.rsplit("::").next().map(str::to_owned)
}

/// The schema name a successful answer in the document refers to (`[T]` for arrays).
fn documented_answer(operation: &Value) -> Option<String> {
    let responses = operation["responses"].as_object()?;
    let (_, success) = responses.iter().find(|(status, _)| status.starts_with('2'))?;
    let schema = &success["content"]["application/json"]["schema"];
    let name = |s: &Value| s["$ref"].as_str().and_then(|r| r.rsplit('/').next()).map(str::to_owned);
    if schema["type"] == "array" { name(&schema["items"]).map(|n| format!("[{n}]")) } else { name(schema) }
}

impl EndpointVisitor for AgreesWithDocument {
    fn visit<E: Endpoint>(&mut self) {
        let what = format!("{} {}", E::METHOD.as_str(), E::PATH);
        let operation = self.operation::<E>().clone();
        if operation.is_null() {
            self.disagreements.push(format!("{what}: not documented"));
            return;
        }
        let security: Vec<String> = operation["security"]
            .as_array()
            .map(|all| all.iter().filter_map(|s| s.as_object()?.keys().next().cloned()).collect())
            .unwrap_or_default();
        let expected: Vec<String> = E::ACCESS.security_scheme().map(str::to_owned).into_iter().collect();
        if security != expected {
            self.disagreements.push(format!("{what}: security {security:?}, the contract says {expected:?}"));
        }
        let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
        let named = |place: &str| -> BTreeSet<String> {
            parameters
                .iter()
                .filter(|p| p["in"] == place)
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect()
        };
        let query: BTreeSet<String> = E::QUERY.iter().map(|q| (*q).to_owned()).collect();
        if named("query") != query {
            self.disagreements.push(format!("{what}: query {:?}, the contract says {query:?}", named("query")));
        }
        let in_template: BTreeSet<String> =
            E::PATH.split('{').skip(1).filter_map(|s| s.split_once('}')).map(|(name, _)| name.to_owned()).collect();
        if named("path") != in_template {
            self.disagreements
                .push(format!("{what}: path parameters {:?}, the template has {in_template:?}", named("path")));
        }
        let takes_body = std::any::type_name::<E::Body>() != std::any::type_name::<keyway_api::NoBody>();
        let body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .and_then(|r| r.rsplit('/').next())
            .map(str::to_owned);
        let expected_body = takes_body.then(|| schema_name(std::any::type_name::<E::Body>())).flatten();
        if body != expected_body {
            self.disagreements.push(format!("{what}: body {body:?}, the contract says {expected_body:?}"));
        }
        let answer = documented_answer(&operation);
        let expected_answer = schema_name(std::any::type_name::<E::Answer>());
        if answer != expected_answer {
            self.disagreements.push(format!("{what}: answer {answer:?}, the contract says {expected_answer:?}"));
        }
    }
}

#[test]
fn every_endpoint_the_core_calls_is_documented_with_the_same_method_access_query_body_and_answer() {
    let mut check = AgreesWithDocument { doc: document(), disagreements: Vec::new() };
    visit_all(&mut check);
    assert!(check.disagreements.is_empty(), "{}", check.disagreements.join("\n"));
}

#[test]
fn a_changed_answer_type_is_caught() {
    // The check itself must be able to fail: a document whose keys answer names another
    // schema disagrees with the contract.
    let mut doc = document();
    doc["paths"]["/v1/me/keys"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] =
        Value::from("#/components/schemas/Profile");
    let mut check = AgreesWithDocument { doc, disagreements: Vec::new() };
    visit_all(&mut check);
    assert_eq!(check.disagreements.len(), 1, "{:?}", check.disagreements);
    assert!(check.disagreements[0].starts_with("GET /v1/me/keys: answer"), "{:?}", check.disagreements);
}
