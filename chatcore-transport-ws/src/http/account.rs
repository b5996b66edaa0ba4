//! Routes of a signed-in account (PROTOCOL.md, "Accounts"): change the password, issue an
//! invite (admins), delete the account. The first and last need the current password again.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chatcore::accounts::{NewInvite, Revoked, is_server_admin, name_key};
use chatcore::auth::Identity;
use http::HeaderMap;
use serde::Deserialize;
use serde_json::json;

use super::accounts::{
    ApiResult, check_password, core, millis, now, rate_limited, service, session_of,
};
use crate::accounts::{AccountService, hash_secret, new_secret};
use crate::api_error::ApiError;
use crate::shared::Shared;

/// Body of `DELETE /api/account`.
#[derive(Debug, Deserialize)]
pub(crate) struct DeleteAccount {
    password: String,
}

/// Body of `POST /api/password`.
#[derive(Debug, Deserialize)]
pub(crate) struct ChangePassword {
    password: String,
    new_password: String,
}

/// The caller of a route that needs the current password again (a password change, deleting
/// the account): who they are, their session and their account's key.
struct Confirmed {
    identity: Identity,
    sid: String,
    key: String,
}

/// Checks the bearer access token and `password` against the account, counted against the
/// login limits like a login; `Ok(Err(429))` when over them, `Err` 403 `forbidden` when the
/// password is wrong.
async fn confirm(
    s: &Shared,
    svc: &AccountService,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
    password: String,
) -> ApiResult<Result<Confirmed, Response>> {
    let (identity, sid) = session_of(s, headers).await?;
    let key = name_key(&identity.user);
    let ip = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    if let Err(wait) = svc.limiter.admit(ip, &key) {
        return Ok(Err(rate_limited(wait)));
    }
    let hash = svc
        .config
        .accounts
        .account(&key)
        .await
        .map_err(core)?
        .map(|a| a.password_hash);
    if !svc.passwords.verify(password, hash).await {
        return Err(ApiError::forbidden("the password is wrong"));
    }
    Ok(Ok(Confirmed { identity, sid, key }))
}

/// `POST /api/password` (bearer access token) `{password, new_password}` → `{"revoked": n}`:
/// every other session of the account is signed out and its sockets closed.
pub(crate) async fn change_password(
    State(s): State<Arc<Shared>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Json<ChangePassword>, JsonRejection>,
) -> ApiResult<Response> {
    let svc = service(&s)?;
    let Json(req) = body.map_err(|e| ApiError::from_json(&e))?;
    check_password(&req.password)?;
    check_password(&req.new_password)?;
    let Confirmed { identity, sid, key } =
        match confirm(&s, svc, peer, &headers, req.password).await? {
            Ok(confirmed) => confirmed,
            Err(limited) => return Ok(limited),
        };
    let accounts = &svc.config.accounts;
    let new_hash = svc.passwords.hash(req.new_password).await.map_err(core)?;
    accounts.set_password(&key, &new_hash).await.map_err(core)?;
    let revoked = accounts
        .revoke_sessions(&key, Some(&sid))
        .await
        .map_err(core)?;
    s.hub.revoke(&key, Revoked::AllBut(sid.clone()));
    tracing::info!(user = %identity.user, revoked, "password changed");
    Ok(Json(json!({ "revoked": revoked })).into_response())
}

/// `POST /api/invites` (an admin's bearer access token) → 201 `{"invite", "expires_in"}`.
pub(crate) async fn create_invite(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let svc = service(&s)?;
    let (identity, _) = session_of(&s, &headers).await?;
    if !is_server_admin(&identity) {
        return Err(ApiError::forbidden("only server admins issue invites"));
    }
    let code = new_secret();
    let invite = NewInvite::new(
        hash_secret(&code),
        name_key(&identity.user),
        now() + millis(svc.config.invite_ttl),
    );
    svc.config
        .accounts
        .create_invite(invite)
        .await
        .map_err(core)?;
    tracing::info!(admin = %identity.user, "invite issued");
    let body = json!({ "invite": code, "expires_in": svc.config.invite_ttl.as_secs() });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /api/account` (bearer access token) `{password}` → 200 `{"deleted": true}`: the
/// account, its sessions and tokens are gone, its sockets on every node closed (4403).
pub(crate) async fn delete_account(
    State(s): State<Arc<Shared>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Json<DeleteAccount>, JsonRejection>,
) -> ApiResult<Response> {
    let svc = service(&s)?;
    let Json(req) = body.map_err(|e| ApiError::from_json(&e))?;
    check_password(&req.password)?;
    let Confirmed { identity, key, .. } =
        match confirm(&s, svc, peer, &headers, req.password).await? {
            Ok(confirmed) => confirmed,
            Err(limited) => return Ok(limited),
        };
    let deleted = svc
        .config
        .accounts
        .delete_account(&key)
        .await
        .map_err(core)?;
    s.hub.revoke(&key, Revoked::AllSessions);
    tracing::info!(user = %identity.user, "account deleted");
    Ok(Json(json!({ "deleted": deleted })).into_response())
}
