//! Account routes: register, login, refresh, logout (PROTOCOL.md, "Accounts"); the routes
//! of a signed-in account are in [`super::account`]. Present only when the transport has an
//! [`AccountsConfig`](crate::AccountsConfig); otherwise each answers 404 `not_found`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chatcore::ErrorCode;
use chatcore::accounts::{
    ADMIN_CLAIM, AccountRecord, Created, FAMILY_CLAIM, NewAccount, NewRefresh, Revoked, Rotation,
    name_key,
};
use chatcore::auth::Identity;
use http::HeaderMap;
use http::header::RETRY_AFTER;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AccountsConfig;
use crate::accounts::{AccountService, Registration, family_id, hash_secret, new_secret};
use crate::api_error::ApiError;
use crate::shared::Shared;

pub(super) type ApiResult<T> = Result<T, ApiError>;

/// Body of `POST /api/register` and `POST /api/login`.
#[derive(Debug, Deserialize)]
pub(crate) struct SignIn {
    user: String,
    password: String,
    /// An invite code (registration with `--registration invite`).
    #[serde(default)]
    invite: Option<String>,
}

/// Body of `POST /api/refresh`.
#[derive(Debug, Deserialize)]
pub(crate) struct Refresh {
    refresh_token: String,
}

/// Body of `POST /api/logout` (optional).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Logout {
    /// Every session of the account, not just this one.
    #[serde(default)]
    all: bool,
}

/// The same answer for an unknown user and a wrong password.
const BAD_LOGIN: &str = "wrong user name or password";

pub(super) fn service(s: &Shared) -> ApiResult<&AccountService> {
    s.accounts.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "accounts are not enabled on this server",
        )
    })
}

pub(super) fn core(e: chatcore::Error) -> ApiError {
    ApiError::from_core(&e)
}

/// Refuses an empty password or one over the cap, before any hashing.
pub(super) fn check_password(password: &str) -> ApiResult<()> {
    if password.is_empty() {
        return Err(ApiError::bad_request(
            ErrorCode::Invalid,
            "password: must not be empty",
        ));
    }
    if password.len() > AccountsConfig::MAX_PASSWORD_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!(
                "password: at most {} bytes",
                AccountsConfig::MAX_PASSWORD_BYTES
            ),
        ));
    }
    Ok(())
}

pub(super) fn now() -> i64 {
    chatcore::now_millis()
}

pub(super) fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// An access token for `account` in session `sid`.
fn access_token(svc: &AccountService, account: &AccountRecord, sid: &str) -> ApiResult<String> {
    let mut claims = serde_json::Map::new();
    claims.insert(FAMILY_CLAIM.into(), Value::String(sid.to_owned()));
    if account.admin {
        claims.insert(ADMIN_CLAIM.into(), Value::Bool(true));
    }
    svc.config
        .signer
        .sign_with(&account.name, svc.config.access_ttl, claims)
        .map_err(core)
}

/// The answer of a login, a registration and a refresh.
fn tokens(
    svc: &AccountService,
    account: &AccountRecord,
    sid: &str,
    refresh: &str,
) -> ApiResult<Value> {
    Ok(json!({
        "user": account.name,
        "admin": account.admin,
        "token_type": "Bearer",
        "access_token": access_token(svc, account, sid)?,
        "expires_in": svc.config.access_ttl.as_secs(),
        "refresh_token": refresh,
        "refresh_expires_in": svc.config.refresh_ttl.as_secs(),
    }))
}

/// Starts a session of `account`: its first refresh token and an access token.
async fn start_session(svc: &AccountService, account: &AccountRecord) -> ApiResult<Value> {
    let (sid, refresh) = (family_id(), new_secret());
    let first = NewRefresh::new(
        hash_secret(&refresh),
        sid.clone(),
        now() + millis(svc.config.refresh_ttl),
    );
    svc.config
        .accounts
        .create_session(&account.name, first)
        .await
        .map_err(core)?;
    tokens(svc, account, &sid, &refresh)
}

/// The caller's account session from its bearer access token.
pub(super) async fn session_of(s: &Shared, headers: &HeaderMap) -> ApiResult<(Identity, String)> {
    let identity = super::api::caller(s, headers).await?;
    let sid = identity
        .claim(FAMILY_CLAIM)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::unauthorized("this token is not an account session's"))?;
    Ok((identity, sid))
}

/// `wait` in whole milliseconds, rounded up.
fn whole_millis(wait: std::time::Duration) -> u64 {
    u64::try_from(wait.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

/// 429 `rate_limited` with `retry_after` (seconds, as the `Retry-After` header) and
/// `retry_after_ms`.
pub(super) fn rate_limited(wait: std::time::Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let body = json!({"error": {
        "code": "rate_limited",
        "message": format!("too many attempts; retry in {secs} s"),
        "retry_after": secs,
        "retry_after_ms": whole_millis(wait),
    }});
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    if let Ok(v) = http::HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(RETRY_AFTER, v);
    }
    response
}

/// `POST /api/register` `{user, password, invite?}` → 201 with the tokens of a login.
pub(crate) async fn register(
    State(s): State<Arc<Shared>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Json<SignIn>, JsonRejection>,
) -> ApiResult<Response> {
    let svc = service(&s)?;
    let Json(req) = body.map_err(|e| ApiError::from_json(&e))?;
    let invite = match (svc.config.registration, req.invite.as_deref()) {
        (Registration::Closed, _) => {
            return Err(ApiError::forbidden(
                "registration is closed on this server; ask an admin for an account",
            ));
        }
        (Registration::Invite, None) => {
            return Err(ApiError::forbidden(
                "registration needs an invite code (`invite`) from an admin",
            ));
        }
        (Registration::Invite, Some(code)) => Some(hash_secret(code)),
        (Registration::Open, _) => None,
    };
    chatcore::names::validate_user(&req.user).map_err(core)?;
    check_password(&req.password)?;
    // Each registration costs an argon2 hash: it counts against the client IP's login limit,
    // so open registration is no way to burn the server's CPU.
    let ip = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    if let Err(wait) = svc.limiter.admit_ip(ip) {
        return Ok(rate_limited(wait));
    }
    let hash = svc.passwords.hash(req.password).await.map_err(core)?;
    let new = NewAccount::new(req.user.clone(), hash);
    let account = match svc
        .config
        .accounts
        .create_account(new, invite.as_deref())
        .await
        .map_err(core)?
    {
        Created::Created(account) => account,
        Created::NameTaken => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::NameTaken,
                format!(
                    "the name {:?} (or one that differs only in case or look-alike letters) is taken",
                    req.user
                ),
            ));
        }
        Created::BadInvite => {
            return Err(ApiError::forbidden(
                "the invite code is unknown, used or expired",
            ));
        }
    };
    // The name is an account's now: guests using it are signed out.
    s.hub.revoke(&account.key, Revoked::Guests);
    tracing::info!(user = %account.name, "account registered");
    let body = start_session(svc, &account).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `POST /api/login` `{user, password}` → the tokens, or 401 with one message for an unknown
/// user and a wrong password, or 429 `rate_limited` with `retry_after`.
pub(crate) async fn login(
    State(s): State<Arc<Shared>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Json<SignIn>, JsonRejection>,
) -> ApiResult<Response> {
    let svc = service(&s)?;
    let Json(req) = body.map_err(|e| ApiError::from_json(&e))?;
    check_password(&req.password)?;
    let ip = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    if let Err(wait) = svc.limiter.admit(ip, &name_key(&req.user)) {
        tracing::info!(ip = ?ip, "login rate limited");
        return Ok(rate_limited(wait));
    }
    let account = svc.config.accounts.account(&req.user).await.map_err(core)?;
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let matched = svc.passwords.verify(req.password, hash).await;
    let Some(account) = account.filter(|_| matched) else {
        tracing::info!(ip = ?ip, "failed login");
        return Err(ApiError::unauthorized(BAD_LOGIN));
    };
    Ok(Json(start_session(svc, &account).await?).into_response())
}

/// `POST /api/refresh` `{refresh_token}` → new tokens; the presented refresh token is used
/// up. Presenting a used one signs the whole session out (401). Limited per client IP (429
/// `rate_limited`), counted before the body is read, so malformed floods count too.
pub(crate) async fn refresh(
    State(s): State<Arc<Shared>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Json<Refresh>, JsonRejection>,
) -> ApiResult<Response> {
    let svc = service(&s)?;
    let ip = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    if let Err(wait) = svc.limiter.admit_refresh(ip) {
        tracing::info!(ip = ?ip, "refresh rate limited");
        return Ok(rate_limited(wait));
    }
    let Json(req) = body.map_err(|e| ApiError::from_json(&e))?;
    let next = new_secret();
    let expires = now() + millis(svc.config.refresh_ttl);
    let rotation = svc
        .config
        .accounts
        .rotate_refresh(
            &hash_secret(&req.refresh_token),
            &hash_secret(&next),
            now(),
            expires,
        )
        .await
        .map_err(core)?;
    match rotation {
        Rotation::Rotated(session) => {
            let account = svc
                .config
                .accounts
                .account(&session.account)
                .await
                .map_err(core)?
                .ok_or_else(|| ApiError::unauthorized("the account was deleted"))?;
            Ok(Json(tokens(svc, &account, &session.id, &next)?).into_response())
        }
        Rotation::Reused(session) => {
            s.hub
                .revoke(&session.account, Revoked::Session(session.id.clone()));
            tracing::warn!(account = %session.account, "refresh token reused; session revoked");
            Err(ApiError::unauthorized(
                "this refresh token was used already, so it may be stolen: the session is signed out; sign in again",
            ))
        }
        Rotation::Unknown | Rotation::Expired => Err(ApiError::unauthorized(
            "unknown, expired or signed-out refresh token; sign in again",
        )),
    }
}

/// `POST /api/logout` (bearer access token), body `{"all": true}` optional → `{"revoked": n}`.
pub(crate) async fn logout(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let svc = service(&s)?;
    let req: Logout = if body.is_empty() {
        Logout::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(ErrorCode::BadRequest, e.to_string()))?
    };
    let (identity, sid) = session_of(&s, &headers).await?;
    let key = name_key(&identity.user);
    let accounts = &svc.config.accounts;
    let revoked = if req.all {
        let n = accounts.revoke_sessions(&key, None).await.map_err(core)?;
        s.hub.revoke(&key, Revoked::AllSessions);
        n
    } else {
        let n = u64::from(accounts.revoke_session(&sid).await.map_err(core)?);
        s.hub.revoke(&key, Revoked::Session(sid.clone()));
        n
    };
    Ok(Json(json!({ "revoked": revoked })))
}
