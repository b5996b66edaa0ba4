//! [`MemoryAccounts`]: accounts in process memory, for tests and throwaway servers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use super::backend::Accounts;
use super::name::name_key;
use super::types::{
    AccountRecord, Created, FamilyRecord, NewAccount, NewInvite, NewRefresh, Rotation,
};
use crate::{Error, Result};

/// [`Accounts`] in process memory: nothing survives the process. Clones share the data.
#[derive(Debug, Clone, Default)]
pub struct MemoryAccounts {
    // A std mutex: never held across an `.await`; every section is a few map operations.
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    /// name key → account.
    accounts: HashMap<String, AccountRecord>,
    /// session id → session.
    families: HashMap<String, FamilyRecord>,
    /// token hash → refresh token.
    tokens: HashMap<String, Refresh>,
    /// code hash → invite.
    invites: HashMap<String, Invite>,
}

#[derive(Debug)]
struct Refresh {
    family: String,
    expires: i64,
    used: bool,
}

#[derive(Debug)]
struct Invite {
    expires: i64,
    used: bool,
}

impl MemoryAccounts {
    /// No accounts yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    fn revoke(&mut self, family: &str) -> bool {
        match self.families.get_mut(family) {
            Some(f) if !f.revoked => {
                f.revoked = true;
                true
            }
            _ => false,
        }
    }
}

#[async_trait]
impl Accounts for MemoryAccounts {
    async fn create_account(&self, account: NewAccount, invite: Option<&str>) -> Result<Created> {
        let key = name_key(&account.name);
        let mut inner = self.lock();
        if inner.accounts.contains_key(&key) {
            return Ok(Created::NameTaken);
        }
        if let Some(hash) = invite {
            match inner.invites.get_mut(hash) {
                Some(i) if !i.used && i.expires > account.created => i.used = true,
                _ => return Ok(Created::BadInvite),
            }
        }
        let record = AccountRecord {
            name: account.name,
            key: key.clone(),
            password_hash: account.password_hash,
            admin: account.admin,
            created: account.created,
        };
        inner.accounts.insert(key, record.clone());
        Ok(Created::Created(record))
    }

    async fn account(&self, name: &str) -> Result<Option<AccountRecord>> {
        Ok(self.lock().accounts.get(&name_key(name)).cloned())
    }

    async fn set_password(&self, name: &str, password_hash: &str) -> Result<bool> {
        let mut inner = self.lock();
        Ok(inner
            .accounts
            .get_mut(&name_key(name))
            .map(|a| a.password_hash = password_hash.to_owned())
            .is_some())
    }

    async fn set_admin(&self, name: &str, admin: bool) -> Result<bool> {
        let mut inner = self.lock();
        Ok(inner
            .accounts
            .get_mut(&name_key(name))
            .map(|a| a.admin = admin)
            .is_some())
    }

    async fn delete_account(&self, name: &str) -> Result<bool> {
        let key = name_key(name);
        let mut inner = self.lock();
        if inner.accounts.remove(&key).is_none() {
            return Ok(false);
        }
        inner.families.retain(|_, f| f.account != key);
        let Inner {
            families, tokens, ..
        } = &mut *inner;
        tokens.retain(|_, t| families.contains_key(&t.family));
        Ok(true)
    }

    async fn create_session(&self, name: &str, first: NewRefresh) -> Result<()> {
        let key = name_key(name);
        let mut inner = self.lock();
        if !inner.accounts.contains_key(&key) {
            return Err(Error::Unauthorized(format!("no account {name:?}")));
        }
        inner.families.insert(
            first.family.clone(),
            FamilyRecord {
                id: first.family.clone(),
                account: key,
                revoked: false,
            },
        );
        inner.tokens.insert(
            first.hash,
            Refresh {
                family: first.family,
                expires: first.expires,
                used: false,
            },
        );
        Ok(())
    }

    async fn rotate_refresh(
        &self,
        hash: &str,
        next: &str,
        now: i64,
        expires: i64,
    ) -> Result<Rotation> {
        let mut inner = self.lock();
        let Some(token) = inner.tokens.get(hash) else {
            return Ok(Rotation::Unknown);
        };
        let (family_id, used, expired) = (token.family.clone(), token.used, token.expires <= now);
        let Some(family) = inner.families.get(&family_id).cloned() else {
            return Ok(Rotation::Unknown);
        };
        if used {
            inner.revoke(&family_id);
            let revoked = FamilyRecord {
                revoked: true,
                ..family
            };
            return Ok(Rotation::Reused(revoked));
        }
        if expired || family.revoked {
            return Ok(Rotation::Expired);
        }
        if let Some(t) = inner.tokens.get_mut(hash) {
            t.used = true;
        }
        inner.tokens.insert(
            next.to_owned(),
            Refresh {
                family: family_id,
                expires,
                used: false,
            },
        );
        Ok(Rotation::Rotated(family))
    }

    async fn session(&self, id: &str) -> Result<Option<FamilyRecord>> {
        Ok(self.lock().families.get(id).cloned())
    }

    async fn revoke_session(&self, id: &str) -> Result<bool> {
        Ok(self.lock().revoke(id))
    }

    async fn revoke_sessions(&self, name: &str, keep: Option<&str>) -> Result<u64> {
        let key = name_key(name);
        let mut revoked = 0;
        for f in self.lock().families.values_mut() {
            if f.account == key && !f.revoked && Some(f.id.as_str()) != keep {
                f.revoked = true;
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn create_invite(&self, invite: NewInvite) -> Result<()> {
        self.lock().invites.insert(
            invite.hash,
            Invite {
                expires: invite.expires,
                used: false,
            },
        );
        Ok(())
    }
}
