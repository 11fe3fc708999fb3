//! `/mcp`: a Model Context Protocol endpoint (streamable HTTP, the official Rust SDK `rmcp`)
//! through which an AI agent uses one user's connections without ever seeing a token. The
//! agent authenticates with an agent's API key (scope `mcp`, bound to that user); its tools
//! list the user's connections, make a connect link for the user to open, and call a
//! provider through the proxy (audited like any proxied call).

use super::api_key::{active_user, ApiKey};
use super::error::ApiError;
use crate::base::audit::Origin;
use crate::base::store::{self, users};
use crate::domain::api_keys::MCP_SCOPE;
use crate::domain::proxy::Call;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::Extension;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{tool, tool_handler, tool_router, ErrorData, ServerHandler};
use serde::Deserialize;
use std::sync::Arc;

/// Who is calling: the agent's key and the one user it acts for.
#[derive(Clone)]
struct Agent(Arc<(ApiKey, Origin, Arc<users::Model>)>);

/// The MCP service for the router: stateless (every instance answers every request, so a
/// load balancer needs no affinity), JSON answers, the hub's own host names only.
pub fn service(state: &AppState) -> StreamableHttpService<HubTools, NeverSessionManager> {
    let mut hosts = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    hosts.extend(
        state
            .config
            .server
            .public_url
            .host_str()
            .map(str::to_string),
    );
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(state.proxy.max_request_bytes + 64 * 1024)
        .with_cancellation_token(state.shutdown.child_token());
    let state = state.clone();
    StreamableHttpService::new(
        move || Ok(HubTools::new(state.clone())),
        NeverSessionManager::default().into(),
        config,
    )
}

/// The agent's key, checked before any MCP message is read: a bearer API key with the `mcp`
/// scope, bound to an enabled user. 401 with `WWW-Authenticate` otherwise.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    // RFC 6750 §3: a 401 names the scheme the endpoint wants; other refusals are as they are.
    let refused = |e: ApiError| {
        let unauthorized = e.status == StatusCode::UNAUTHORIZED;
        let mut response = e.into_response();
        if unauthorized {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"atom-mcp\""),
            );
        }
        response
    };
    let key = match ApiKey::from_request_parts(&mut parts, &state).await {
        Ok(key) => key,
        Err(e) => return refused(e),
    };
    let Some(user_id) = key.0.user_id.clone().filter(|_| key.0.has_scope(MCP_SCOPE)) else {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "The MCP endpoint takes an agent's key: scope mcp, bound to one user.",
        )
        .into_response();
    };
    let user = match active_user(&state, &user_id).await {
        Ok(user) => user,
        Err(e) => return refused(e),
    };
    let Ok(origin) = Origin::from_request_parts(&mut parts, &state).await;
    parts
        .extensions
        .insert(Agent(Arc::new((key, origin, user))));
    next.run(Request::from_parts(parts, body)).await
}

/// The tools an agent gets.
#[derive(Clone)]
pub struct HubTools {
    state: AppState,
    tool_router: ToolRouter<HubTools>,
}

/// `connect_link`'s arguments.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct LinkArgs {
    /// The service to connect, e.g. `gmail` (see `list_connections`).
    service: String,
}

/// `call_provider`'s arguments.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct CallArgs {
    /// The connected service, e.g. `github`.
    service: String,
    /// The HTTP method (default GET).
    method: Option<String>,
    /// The path under the provider's API, e.g. `user` for GitHub or
    /// `gmail/v1/users/me/profile` for Gmail, with an optional `?query`.
    path: String,
    /// A JSON body, sent as `application/json`.
    body: Option<serde_json::Value>,
    /// Which account, when the user connected several of this service (`id` in
    /// `list_connections`).
    connection_id: Option<String>,
}

fn text(message: impl Into<String>) -> Vec<ContentBlock> {
    vec![ContentBlock::text(message.into())]
}

fn agent(parts: &axum::http::request::Parts) -> Result<Agent, ErrorData> {
    parts
        .extensions
        .get::<Agent>()
        .cloned()
        .ok_or_else(|| ErrorData::invalid_request("not authenticated", None))
}

/// An API refusal as a tool error the agent can read (its code and message, nothing else).
fn refused(e: ApiError) -> CallToolResult {
    CallToolResult::error(text(format!("{}: {}", e.code, e.message)))
}

#[tool_router]
impl HubTools {
    fn new(state: AppState) -> Self {
        Self {
            state,
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "List the services this hub offers and the user's connections to each \
                       (one per provider account, with its id): status (connected, expired, \
                       needs_reauth, not_connected), the account and the granted scopes. Never \
                       a token."
    )]
    async fn list_connections(
        &self,
        Extension(parts): Extension<axum::http::request::Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        let agent = agent(&parts)?;
        let (_, _, user) = &*agent.0;
        let rows = store::connections::for_user(&self.state.db, &user.id)
            .await
            .map_err(|_| ErrorData::internal_error("the database did not answer", None))?;
        let now = self.state.clock.now();
        let services: Vec<serde_json::Value> = self
            .state
            .catalog
            .names()
            .into_iter()
            .map(
                |service| match rows.iter().find(|row| row.provider == service) {
                    Some(row) => serde_json::to_value(super::api_v1::Connection::of(row, now))
                        .unwrap_or_default(),
                    None => serde_json::json!({ "service": service, "status": "not_connected" }),
                },
            )
            .collect();
        Ok(CallToolResult::success(text(
            serde_json::json!({ "connections": services }).to_string(),
        )))
    }

    #[tool(
        description = "Make a single-use link (valid 10 minutes) for the user to open in their \
                       browser to connect a service. Give the link to the user; do not open it."
    )]
    async fn connect_link(
        &self,
        Extension(parts): Extension<axum::http::request::Parts>,
        Parameters(args): Parameters<LinkArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let agent = agent(&parts)?;
        Ok(self
            .link(&agent, &args.service)
            .await
            .unwrap_or_else(refused))
    }

    #[tool(
        description = "Call a connected service's API for the user, through the hub (which adds \
                       the user's credentials). Returns the provider's status and body."
    )]
    async fn call_provider(
        &self,
        Extension(parts): Extension<axum::http::request::Parts>,
        Parameters(args): Parameters<CallArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let agent = agent(&parts)?;
        Ok(self.call(&agent, args).await.unwrap_or_else(refused))
    }
}

impl HubTools {
    /// A connect link for the agent's user.
    async fn link(&self, agent: &Agent, service: &str) -> Result<CallToolResult, ApiError> {
        let (key, origin, user) = &*agent.0;
        let provider = super::api_v1::ready_provider(&self.state, service)?;
        let link = store::connect_links::NewLink {
            user_id: &user.id,
            provider: &provider.service,
            return_to: "/connections",
            created_by: &key.0.id,
            expected_account: None,
        };
        let kind = crate::base::audit::Kind::ConnectLinkCreated;
        let (_, created) =
            super::connect_links::issue(&self.state, key, origin, link, kind).await?;
        Ok(CallToolResult::success(text(format!(
            "Ask the user to open this link to connect {}: {} (it works once, until {}).",
            provider.display_name, created.url, created.expires_at
        ))))
    }

    /// A call through the proxy for the agent's user; the provider's status and body.
    async fn call(&self, agent: &Agent, args: CallArgs) -> Result<CallToolResult, ApiError> {
        let (key, origin, user) = &*agent.0;
        let provider = super::api_v1::ready_provider(&self.state, &args.service)?;
        let method = args.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
        let method = Method::from_bytes(method.as_bytes()).map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", "unknown method")
        })?;
        let (path, query) = match args.path.trim_start_matches('/').split_once('?') {
            Some((path, query)) => (path.to_string(), Some(query.to_string())),
            None => (args.path.trim_start_matches('/').to_string(), None),
        };
        super::proxy::checked_path(&path)?;
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        let body = match &args.body {
            Some(json) => {
                headers.insert(
                    axum::http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                json.to_string().into()
            }
            None => Default::default(),
        };
        let call = Call {
            method,
            path,
            query,
            headers,
            body,
            bot: false,
        };
        let connection = args.connection_id.as_deref();
        let row =
            super::api_v1::chosen_to_use(&self.state, &user.id, &provider.service, connection)
                .await?;
        let answer =
            super::proxy::call_recorded(&self.state, key, origin, &row, &provider, &call).await?;
        let status = answer.response.status().as_u16();
        let body = answer.read_for_agent().await.map_err(|e| {
            ApiError::new(StatusCode::BAD_GATEWAY, "response_too_large", e.to_string())
        })?;
        let result = serde_json::json!({
            "status": status,
            "body": serde_json::from_str::<serde_json::Value>(&body)
                .unwrap_or(serde_json::Value::String(body)),
        });
        let content = text(result.to_string());
        Ok(if status < 400 {
            CallToolResult::success(content)
        } else {
            CallToolResult::error(content)
        })
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for HubTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "atom-connect",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "ATOM Connect holds this user's OAuth connections. List them, give the user a \
                 connect link for a service they have not connected, and call a connected \
                 service's API through call_provider. You never see a token."
                    .to_string(),
            )
    }
}
