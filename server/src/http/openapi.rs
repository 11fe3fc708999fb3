//! The /api/v1 router and its OpenAPI 3.1 document, both made from the handlers' own
//! annotations and answer types (utoipa): an operation is in the document exactly when it is
//! routed, with the schema of what it really answers.

use super::api_v1::{self, ErrorBody};
use super::{api_describe, api_import, api_users, connect_links, portal_links, proxy};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json, Router};
use std::sync::Arc;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{OpenApi as Document, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ATOM Connect backend API",
        description = "Fresh OAuth tokens and connect links for the platform's services."
    ),
    components(schemas(ErrorBody)),
    // Routed by hand below: its path has several segments (`{*path}`), which OpenAPI
    // cannot template.
    paths(proxy::forward),
    security(("apiKey" = []))
)]
struct ApiDoc;

/// Every keyed operation can also answer 401, 403 and 429; the key goes in a bearer header.
/// Applied once the routes are in (a derive's modifiers run before them).
struct KeyedRoutes;

impl Modify for KeyedRoutes {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key (`atom_…`) in the Authorization header only.",
                    ))
                    .build(),
            ),
        );
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                if operation.security.is_none() {
                    add_key_errors(operation);
                }
            }
        }
    }
}

fn add_key_errors(operation: &mut Operation) {
    for (status, code) in [
        ("401", "`invalid_api_key`"),
        ("403", "`insufficient_scope`"),
        ("429", "`rate_limited`"),
    ] {
        let response = Response::builder()
            .description(code)
            .content(
                "application/json",
                utoipa::openapi::Content::new(Some(RefOr::Ref(Ref::from_schema_name("Error")))),
            )
            .build();
        operation
            .responses
            .responses
            .insert(status.to_string(), RefOr::T(response));
    }
}

/// This document (public, no key needed)
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document"))
)]
async fn document(
    State(state): State<AppState>,
    Extension(doc): Extension<Arc<Document>>,
) -> Json<Document> {
    let mut doc = (*doc).clone();
    doc.servers = Some(vec![Server::new(state.config.public_origin())]);
    Json(doc)
}

/// The /api/v1 routes and their document.
fn parts() -> (Router<AppState>, Document) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(document))
        .routes(routes!(api_v1::list_connections))
        .routes(routes!(
            api_v1::delete_connection,
            api_describe::describe_connection
        ))
        .routes(routes!(api_v1::token))
        .routes(routes!(api_import::import_connection))
        .routes(routes!(connect_links::create))
        .routes(routes!(portal_links::create))
        .routes(routes!(
            api_users::put_user,
            api_users::get_user,
            api_users::delete_user
        ))
        .routes(routes!(api_users::list_users))
        .split_for_parts();
    let router = router.route(
        "/api/v1/proxy/{service}/{*path}",
        axum::routing::any(proxy::forward),
    );
    KeyedRoutes.modify(&mut doc);
    (router, doc)
}

/// Every /api/v1 route, for the main router.
pub fn router() -> Router<AppState> {
    let (router, doc) = parts();
    router.layer(Extension(Arc::new(doc)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_names_every_routed_operation_with_its_answers() {
        let (_, doc) = super::parts();
        let doc = serde_json::to_value(doc).expect("json");
        assert_eq!(doc["openapi"], "3.1.0");
        let token = &doc["paths"]["/api/v1/users/{user_id}/connections/{service}/token"]["get"];
        for status in ["200", "401", "403", "404", "409", "429", "503"] {
            assert!(token["responses"][status].is_object(), "{status}");
        }
        assert_eq!(token["x-required-scope"], "tokens:read");
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["Token"]["required"][0], "service");
        assert!(schemas["Error"]["required"].is_array());
        let public = &doc["paths"]["/api/v1/openapi.json"]["get"];
        assert!(
            public["responses"]["401"].is_null(),
            "the document needs no key"
        );
        // The router takes /api/v1 routes only from here: no literal path in mod.rs.
        assert!(!include_str!("mod.rs").contains("\"/api/v1"));
    }
}
