//! Provider answers read with a bound: a provider (or whoever answers in its place) cannot
//! make the hub hold an arbitrarily large body (a 200 MB userinfo answer was read whole).
//! Token, identity, discovery and revocation answers are small; a megabyte is generous.

/// The most of a provider's answer the hub reads.
pub const PROVIDER_BODY_LIMIT: usize = 1024 * 1024;

/// Why an answer's body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the answer is larger than {PROVIDER_BODY_LIMIT} bytes")]
    TooLarge,
    #[error("the answer could not be read")]
    Read,
    #[error("the answer is not JSON")]
    NotJson,
}

/// The body, if it is at most `PROVIDER_BODY_LIMIT` bytes (refused as soon as it is longer,
/// whether or not it said so in Content-Length).
pub async fn bytes(mut response: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|n| n > PROVIDER_BODY_LIMIT as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|_| BodyError::Read)? {
        if body.len() + chunk.len() > PROVIDER_BODY_LIMIT {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The body as JSON, read within the bound.
pub async fn json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, BodyError> {
    let body = bytes(response).await?;
    serde_json::from_slice(&body).map_err(|_| BodyError::NotJson)
}
