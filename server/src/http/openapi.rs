//! The /api/v1 route table: the router is built from it and the OpenAPI 3.1 document at
//! /api/v1/openapi.json is generated from it, so the two cannot drift apart.

use super::{api_v1, connect_links};
use crate::state::AppState;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

/// One backend API operation: how it is routed and how it is documented.
pub struct ApiRoute {
    pub method: Method,
    pub path: &'static str,
    pub operation_id: &'static str,
    pub summary: &'static str,
    /// The key scope required; `None` for public routes.
    pub scope: Option<&'static str>,
    pub request: Option<fn() -> Value>,
    pub success: (u16, fn() -> Value),
    /// Error answers beyond 401/403/429, which every keyed route can give.
    pub errors: &'static [(u16, &'static str)],
    pub handler: fn() -> MethodRouter<AppState>,
}

pub fn routes() -> Vec<ApiRoute> {
    use api_v1::{SCOPE_CONNECTIONS_WRITE as WRITE, SCOPE_TOKENS_READ as READ};
    const USER_404: (u16, &str) = (404, "`unknown_user`, `unknown_service` or `not_connected`");
    vec![
        ApiRoute {
            method: Method::GET,
            path: "/api/v1/openapi.json",
            operation_id: "openapi",
            summary: "This document (public, no key needed)",
            scope: None,
            request: None,
            success: (200, || json!({ "type": "object" })),
            errors: &[],
            handler: || on(MethodFilter::GET, document),
        },
        ApiRoute {
            method: Method::GET,
            path: "/api/v1/users/{user_id}/connections",
            operation_id: "listConnections",
            summary: "The user's connections (never their tokens)",
            scope: Some(READ),
            request: None,
            success: (200, connections_schema),
            errors: &[USER_404],
            handler: || on(MethodFilter::GET, api_v1::list_connections),
        },
        ApiRoute {
            method: Method::DELETE,
            path: "/api/v1/users/{user_id}/connections/{service}",
            operation_id: "deleteConnection",
            summary: "Revoke at the provider where possible, then delete",
            scope: Some(WRITE),
            request: None,
            success: (200, || object(&["service", "connected", "revocation"])),
            errors: &[USER_404],
            handler: || on(MethodFilter::DELETE, api_v1::delete_connection),
        },
        ApiRoute {
            method: Method::GET,
            path: "/api/v1/users/{user_id}/connections/{service}/token",
            operation_id: "getToken",
            summary: "A working access token, refreshed first when it expires within a minute",
            scope: Some(READ),
            request: None,
            success: (200, || {
                object(&[
                    "service",
                    "access_token",
                    "token_type",
                    "expires_at",
                    "scopes",
                ])
            }),
            errors: &[
                USER_404,
                (409, "`needs_reauth`: the user must reconnect"),
                (503, "`provider_unavailable`: transient, try again"),
            ],
            handler: || on(MethodFilter::GET, api_v1::token),
        },
        ApiRoute {
            method: Method::POST,
            path: "/api/v1/connect-links",
            operation_id: "createConnectLink",
            summary: "A single-use URL, valid 10 minutes, that lets the browser opening it \
                      connect this service for this user only",
            scope: Some(WRITE),
            request: Some(|| {
                let mut schema = object(&["user_id", "service", "return_to"]);
                schema["required"] = json!(["user_id", "service"]);
                schema
            }),
            success: (201, || object(&["url", "expires_at"])),
            errors: &[
                (400, "`bad_request`: malformed JSON"),
                (404, "`unknown_user` or `unknown_service`"),
                (409, "`provider_not_configured`"),
            ],
            handler: || on(MethodFilter::POST, connect_links::create),
        },
    ]
}

/// Every /api/v1 route, for the main router.
pub fn router() -> Router<AppState> {
    routes().into_iter().fold(Router::new(), |router, route| {
        router.route(route.path, (route.handler)())
    })
}

/// An object whose listed properties are all present (strings unless stated otherwise).
fn object(fields: &[&str]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| {
            let schema = match *f {
                "scopes" => json!({ "type": "array", "items": { "type": "string" } }),
                "connected" => json!({ "type": "boolean" }),
                "expires_at" => json!({ "type": ["string", "null"], "format": "date-time" }),
                _ => json!({ "type": "string" }),
            };
            (f.to_string(), schema)
        })
        .collect();
    json!({ "type": "object", "required": fields, "properties": properties })
}

fn connections_schema() -> Value {
    let mut connection = object(&["service", "status", "scopes", "expires_at", "connected_at"]);
    connection["properties"]["account"] = object(&["id", "name"]);
    let mut list = object(&["user_id"]);
    list["properties"]["connections"] = json!({ "type": "array", "items": connection });
    list
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn operation(route: &ApiRoute) -> Value {
    let parameters: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    let (code, schema) = route.success;
    let mut responses = Map::new();
    responses.insert(
        code.to_string(),
        json!({ "description": "Success", "content": { "application/json": { "schema": schema() } } }),
    );
    let mut op = json!({
        "operationId": route.operation_id,
        "summary": route.summary,
        "parameters": parameters,
    });
    if let Some(scope) = route.scope {
        op["description"] = json!(format!("Requires an API key with the `{scope}` scope."));
        op["x-required-scope"] = json!(scope);
        responses.insert("401".into(), error_response("`invalid_api_key`"));
        responses.insert("403".into(), error_response("`insufficient_scope`"));
        responses.insert("429".into(), error_response("`rate_limited`"));
    } else {
        op["security"] = json!([]);
    }
    for (status, description) in route.errors {
        responses.insert(status.to_string(), error_response(description));
    }
    op["responses"] = Value::Object(responses);
    if let Some(request) = route.request {
        op["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": request() } }
        });
    }
    op
}

/// The OpenAPI 3.1 document for `routes()`.
pub fn build(public_origin: &str) -> Value {
    let mut paths = Map::new();
    for route in routes() {
        let item = paths.entry(route.path).or_insert_with(|| json!({}));
        item[route.method.as_str().to_lowercase()] = operation(&route);
    }
    let mut error = object(&["error", "message"]);
    error["description"] = json!("Every error: a fixed code and a human-readable message.");
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ATOM Connect backend API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Fresh OAuth tokens and connect links for the platform's services."
        },
        "servers": [{ "url": public_origin }],
        "security": [{ "apiKey": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key (`atom_…`) in the Authorization header only."
                }
            },
            "schemas": { "Error": error }
        }
    })
}

async fn document(State(state): State<AppState>) -> Json<Value> {
    Json(build(&state.config.public_origin()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_names_every_route_and_the_router_has_no_other_api_v1_route() {
        let doc = super::build("http://localhost");
        for route in super::routes() {
            let method = route.method.as_str().to_lowercase();
            assert!(
                doc["paths"][route.path][&method].is_object(),
                "{}",
                route.path
            );
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["apiKey"]["scheme"],
            "bearer"
        );
        // The router takes /api/v1 routes only from `routes()`: no literal path in mod.rs.
        assert!(!include_str!("mod.rs").contains("\"/api/v1"));
    }
}
