//! lego's `httpreq` provider (and Caddy's acmeproxy): `POST /present` and `POST /cleanup`
//! with `{"fqdn","value"}`, or in RAW mode `{"domain","token","keyAuth"}`, keys in any case,
//! behind HTTP Basic. The ACME semantics are the library's, as for the hooks: the value is
//! added to the TXT set (never replacing another), removed alone, and present answers once
//! every authoritative server shows it. The answer echoes `{"fqdn","value"}` with 200,
//! which lego (any 2xx) and acmeproxy (exactly 200, the echo) both take.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use zonectl_core::acme::{self, Challenge};

use super::{ServeState, error, unauthorized};

#[derive(Clone, Copy)]
enum Step {
    Present,
    Cleanup,
}

pub async fn present(State(state): State<Arc<ServeState>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&state, &headers, &body, Step::Present).await
}

pub async fn cleanup(State(state): State<Arc<ServeState>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&state, &headers, &body, Step::Cleanup).await
}

async fn handle(state: &Arc<ServeState>, headers: &HeaderMap, body: &[u8], step: Step) -> Response {
    let Some(user) = state.httpreq_users.check(headers) else {
        return unauthorized("httpreq", serde_json::json!({ "error": "unauthorized" }).to_string());
    };
    let challenge = match challenge(body) {
        Ok(c) => c,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    if !user.may(challenge.name.as_str()) {
        return error(StatusCode::FORBIDDEN, &format!("user '{}' may not change {}", user.name, challenge.name));
    }
    let user = user.name.clone();
    // A task of its own: lego giving up does not leave a value half placed.
    let task_state = state.clone();
    let task_challenge = challenge.clone();
    let what = format!(
        "httpreq: {} {} by {user}",
        if matches!(step, Step::Present) { "present" } else { "cleanup" },
        challenge.name
    );
    let done = state
        .spawn_change(what, async move {
            let state = task_state;
            let challenges = [task_challenge];
            let placed = match step {
                Step::Present => acme::present(&state.router, &challenges, &state.acme).await,
                Step::Cleanup => acme::cleanup(&state.router, &challenges, &state.acme).await,
            }?;
            let verb = match step {
                Step::Present => "present",
                Step::Cleanup => "cleanup",
            };
            for p in &placed {
                super::log_report(&state, "httpreq", &format!("{verb} {} by {user}", p.located.name), &p.report);
            }
            Ok::<_, zonectl_core::Error>(())
        })
        .await;
    match done {
        Ok(Ok(())) => {
            let echo = serde_json::json!({ "fqdn": challenge.name.as_str(), "value": challenge.value });
            (StatusCode::OK, [("content-type", "application/json")], echo.to_string()).into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &format!("interrupted: {e}")),
    }
}

/// The challenge in either body form, keys matched in any case.
fn challenge(body: &[u8]) -> Result<Challenge, String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let object = value.as_object().ok_or("the body is not a JSON object")?;
    let field = |key: &str| {
        object.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).and_then(|(_, v)| v.as_str()).map(str::to_owned)
    };
    match (field("fqdn"), field("value"), field("domain"), field("keyauth")) {
        (Some(fqdn), Some(value), _, _) => Challenge::new(&fqdn, &value).map_err(|e| e.to_string()),
        (_, _, Some(domain), Some(key_authorization)) => {
            Challenge::from_key_authorization(&domain, &key_authorization).map_err(|e| e.to_string())
        }
        _ => Err("the body needs fqdn and value, or domain, token and keyAuth".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_body_forms_in_any_case() {
        let default = challenge(br#"{"fqdn":"_acme-challenge.a.test.","value":"v"}"#).unwrap();
        assert_eq!((default.name.as_str(), default.value.as_str()), ("_acme-challenge.a.test.", "v"));
        let caddy = challenge(br#"{"FQDN":"_acme-challenge.a.test.","Value":"v"}"#).unwrap();
        assert_eq!(caddy, default);
        let raw = challenge(br#"{"domain":"a.test","token":"t","keyAuth":"token.thumbprint"}"#).unwrap();
        assert_eq!(raw.value, acme::key_authorization_digest("token.thumbprint"));
        assert!(challenge(br#"{"fqdn":"x"}"#).is_err());
        assert!(challenge(b"[]").is_err());
    }
}
